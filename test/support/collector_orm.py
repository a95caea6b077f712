#!/usr/bin/python3
"""
The GeckoTerminal collector's own database stack (SQLAlchemy ORM + psycopg2)
run against a migrated PostgreSQL database, as the collector would use it.

    GECKO_DB_URL=postgresql://user:pw@host:port/db /usr/bin/python3 collector_orm.py

Like the collector, the URL prefix picks the model set: `postgresql://` or
`postgres://` selects the collector's PostgreSQL models, anything else (e.g.
`postgresql+psycopg2://`) its SQLite models; both connect through psycopg2.
Both model sets are transcribed by hand from shared/reference (the collector's
models, not this repository's target schema): a check must fail when the
target schema differs from what the collector maps.

Each named check runs in its own session(s) and is recorded ok or with its
first error line. Output: one JSON object on stdout,
{"models", "checks": [{"name", "ok", "error"?, "detail"?}], "passed", "failed"};
exit status 1 when any check failed, 2 on a usage error.

Rows the checks write carry a random tag in their keys, so the script can run
repeatedly on a database holding migrated data. Migrated rows are only read,
except one existing OHLCV candle that the upsert check deliberately updates.
"""
import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import (
    BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, Numeric, String, Text,
    UniqueConstraint, create_engine, delete, func, or_, select, text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, declarative_base

# Timestamps "with time zone" in the PostgreSQL models.
TZ = DateTime(timezone=True)


# ---------------------------------------------------------------------------
# The collector's PostgreSQL models (collector-postgresql-models.md).
# `index=True` gives the ix_* indexes, __table_args__ the idx_* ones. The
# reference lists no foreign keys for these models, so none are declared.
# ---------------------------------------------------------------------------

def postgresql_models():
    Base = declarative_base()

    class Dex(Base):
        __tablename__ = "dexes"
        id = Column(String(100), primary_key=True)
        name = Column(String(200), nullable=False)
        network = Column(String(50), nullable=False, index=True)
        created_at = Column(TZ, default=func.now())
        last_updated = Column(TZ, default=func.now(), onupdate=func.now())
        metadata_json = Column(JSONB, default={})
        __table_args__ = (
            Index("idx_dexes_name", "name"),
            Index("idx_dexes_network", "network"),
        )

    class Token(Base):
        __tablename__ = "tokens"
        id = Column(String(200), primary_key=True)
        address = Column(String(100), nullable=False)
        name = Column(String(200))
        symbol = Column(String(50), index=True)
        decimals = Column(Integer)
        network = Column(String(50), nullable=False, index=True)
        created_at = Column(TZ, default=func.now())
        last_updated = Column(TZ, default=func.now(), onupdate=func.now())
        metadata_json = Column(JSONB, default={})
        __table_args__ = (
            UniqueConstraint("network", "address", name="uq_tokens_network_address"),
            Index("idx_tokens_symbol_network", "symbol", "network"),
            Index("idx_tokens_network_address", "network", "address"),
        )

    class Pool(Base):
        __tablename__ = "pools"
        id = Column(String(200), primary_key=True)
        address = Column(String(100), nullable=False)
        name = Column(String(200))
        dex_id = Column(String(100), nullable=False, index=True)
        base_token_id = Column(String(200), index=True)
        quote_token_id = Column(String(200), index=True)
        reserve_usd = Column(Numeric(20, 2), default=0)
        created_at = Column(TZ, default=func.now())
        last_updated = Column(TZ, default=func.now(), onupdate=func.now())
        activity_score = Column(Numeric(10, 2), index=True)
        discovery_source = Column(String(50), default="manual", index=True)
        collection_priority = Column(String(20), default="normal", index=True)
        auto_discovered_at = Column(TZ)
        last_activity_check = Column(TZ)
        metadata_json = Column(JSONB, default={})
        __table_args__ = (
            Index("idx_pools_discovery_source", "discovery_source"),
            Index("idx_pools_collection_priority", "collection_priority"),
            Index("idx_pools_last_activity_check", "last_activity_check"),
            Index("idx_pools_dex_id", "dex_id"),
            Index("idx_pools_auto_discovered_at", "auto_discovered_at"),
        )

    Index("idx_pools_activity_score_desc", Pool.__table__.c.activity_score.desc().nullslast())
    Index("idx_pools_reserve_usd", Pool.__table__.c.reserve_usd.desc())

    class Trade(Base):
        __tablename__ = "trades"
        id = Column(String(200), primary_key=True)
        pool_id = Column(String(200), nullable=False, index=True)
        block_number = Column(BigInteger, nullable=False, index=True)
        tx_hash = Column(String(100), nullable=False, index=True)
        tx_from_address = Column(String(100))
        from_token_amount = Column(Numeric(30, 10))
        to_token_amount = Column(Numeric(30, 10))
        price_usd = Column(Numeric(20, 8))
        volume_usd = Column(Numeric(20, 2), index=True)
        side = Column(String(10))
        block_timestamp = Column(TZ, nullable=False, index=True)
        metadata_json = Column(JSONB, default={})
        __table_args__ = (
            Index("idx_trades_pool_id_timestamp", "pool_id", "block_timestamp"),
            Index("idx_trades_block_number", "block_number"),
            Index("idx_trades_tx_hash", "tx_hash"),
        )

    t = Trade.__table__.c
    Index("idx_trades_block_timestamp_desc", t.block_timestamp.desc())
    Index("idx_trades_volume_usd_desc", t.volume_usd.desc().nullslast())
    Index("idx_trades_high_volume", t.pool_id, t.block_timestamp, postgresql_where=t.volume_usd > 1000)

    class Ohlcv(Base):
        __tablename__ = "ohlcv_data"
        id = Column(BigInteger, primary_key=True, autoincrement=True)
        pool_id = Column(String(200), nullable=False)
        timeframe = Column(String(10), nullable=False)
        timestamp = Column(BigInteger, nullable=False)
        datetime = Column(TZ, nullable=False)
        open_price = Column(Numeric(20, 8), nullable=False)
        high_price = Column(Numeric(20, 8), nullable=False)
        low_price = Column(Numeric(20, 8), nullable=False)
        close_price = Column(Numeric(20, 8), nullable=False)
        volume_usd = Column(Numeric(20, 2), nullable=False)
        metadata_json = Column(JSONB, default={})
        __table_args__ = (
            UniqueConstraint("pool_id", "timeframe", "timestamp", name="uq_ohlcv_pool_timeframe_timestamp"),
            Index("idx_ohlcv_pool_timeframe_datetime", "pool_id", "timeframe", "datetime"),
            Index("idx_ohlcv_timeframe", "timeframe"),
        )

    Index("idx_ohlcv_volume_desc", Ohlcv.__table__.c.volume_usd.desc())
    Index("idx_ohlcv_datetime_desc", Ohlcv.__table__.c.datetime.desc())

    class Watchlist(Base):
        __tablename__ = "watchlist"
        id = Column(BigInteger, primary_key=True, autoincrement=True)
        pool_id = Column(String(200), nullable=False, unique=True)
        token_symbol = Column(String(50))
        token_name = Column(String(200))
        network_address = Column(String(100))
        is_active = Column(Boolean, nullable=False, default=True, index=True)
        created_at = Column(TZ, default=func.now())
        updated_at = Column(TZ, default=func.now(), onupdate=func.now())
        metadata_json = Column(JSONB, default={})
        __table_args__ = (
            Index("idx_watchlist_token_symbol", "token_symbol"),
            Index("idx_watchlist_active", "is_active"),
            Index("idx_watchlist_pool_id", "pool_id"),
        )

    class CollectionMetadata(Base):
        __tablename__ = "collection_metadata"
        id = Column(BigInteger, primary_key=True, autoincrement=True)
        collector_type = Column(String(100), nullable=False, unique=True)
        last_run = Column(TZ)
        last_success = Column(TZ)
        run_count = Column(Integer, default=0)
        error_count = Column(Integer, default=0)
        last_error = Column(Text)
        metadata_json = Column(JSONB, default={})
        created_at = Column(TZ, default=func.now())
        updated_at = Column(TZ, default=func.now(), onupdate=func.now())
        __table_args__ = (
            Index("idx_collection_metadata_last_run", "last_run"),
            Index("idx_collection_metadata_collector_type", "collector_type"),
        )

    class DiscoveryMetadata(Base):
        __tablename__ = "discovery_metadata"
        id = Column(BigInteger, primary_key=True, autoincrement=True)
        discovery_type = Column(String(50), nullable=False)
        execution_time_seconds = Column(Numeric(10, 3))
        pools_discovered = Column(Integer, default=0)
        pools_filtered = Column(Integer, default=0)
        api_calls_made = Column(Integer, default=0)
        errors_encountered = Column(Integer, default=0)
        created_at = Column(TZ, default=func.now())
        metadata_json = Column(JSONB, default={})
        __table_args__ = (
            Index("idx_discovery_metadata_created_at", "created_at"),
            Index("idx_discovery_metadata_type_created", "discovery_type", "created_at"),
        )

    class NewPoolsHistory(Base):
        __tablename__ = "new_pools_history"
        id = Column(BigInteger, primary_key=True, autoincrement=True)
        pool_id = Column(String(200), nullable=False)
        type = Column(String(20), default="pool")
        name = Column(String(255))
        base_token_price_usd = Column(Numeric(20, 10))
        base_token_price_native_currency = Column(Numeric(20, 10))
        quote_token_price_usd = Column(Numeric(20, 10))
        quote_token_price_native_currency = Column(Numeric(20, 10))
        address = Column(String(255))
        reserve_in_usd = Column(Numeric(20, 4))
        pool_created_at = Column(TZ)
        fdv_usd = Column(Numeric(20, 4))
        market_cap_usd = Column(Numeric(20, 4))
        price_change_percentage_h1 = Column(Numeric(10, 4))
        price_change_percentage_h24 = Column(Numeric(10, 4))
        transactions_h1_buys = Column(Integer)
        transactions_h1_sells = Column(Integer)
        transactions_h24_buys = Column(Integer)
        transactions_h24_sells = Column(Integer)
        volume_usd_h24 = Column(Numeric(20, 4))
        dex_id = Column(String(100))
        base_token_id = Column(String(255))
        quote_token_id = Column(String(255))
        network_id = Column(String(50))
        collected_at = Column(TZ, nullable=False, default=func.now())
        signal_score = Column(Numeric(10, 4), index=True)
        volume_trend = Column(String(20))
        liquidity_trend = Column(String(20))
        momentum_indicator = Column(Numeric(10, 4))
        activity_score = Column(Numeric(10, 4))
        volatility_score = Column(Numeric(10, 4))
        discovery_source = Column(String(50))
        api_response_data = Column(JSONB)
        __table_args__ = (
            UniqueConstraint("pool_id", "collected_at", name="uq_new_pools_history_pool_collected"),
            Index("idx_new_pools_history_pool_id", "pool_id"),
            Index("idx_new_pools_history_collected_at", "collected_at"),
            Index("idx_new_pools_history_volume_trend", "volume_trend"),
            Index("idx_new_pools_history_network_id", "network_id"),
            Index("idx_new_pools_history_dex_id", "dex_id"),
            Index("idx_new_pools_history_pool_signal_time", "pool_id", "signal_score", "collected_at"),
        )

    n = NewPoolsHistory.__table__.c
    Index("idx_new_pools_history_activity_score", n.activity_score.desc().nullslast())
    Index("idx_new_pools_history_signal_score", n.signal_score.desc().nullslast())

    return SimpleNamespace(
        kind="postgresql", Base=Base, Dex=Dex, Token=Token, Pool=Pool, Trade=Trade, Ohlcv=Ohlcv,
        Watchlist=Watchlist, CollectionMetadata=CollectionMetadata, DiscoveryMetadata=DiscoveryMetadata,
        NewPoolsHistory=NewPoolsHistory, ExecutionHistory=None, PerformanceMetrics=None, SystemAlert=None,
        # collection_metadata.updated_at, where the SQLite models call it last_updated.
        metadata_touched="updated_at",
    )


# ---------------------------------------------------------------------------
# The collector's SQLite models (collector-sqlite-schema.sql; Python-side
# defaults per collector-facts.md, since that schema has no DEFAULT clauses).
# ---------------------------------------------------------------------------

def sqlite_models():
    Base = declarative_base()
    now = func.now()  # CURRENT_TIMESTAMP on SQLite; the same clock function on PostgreSQL

    class CollectionMetadata(Base):
        __tablename__ = "collection_metadata"
        collector_type = Column(String(50), primary_key=True)
        last_run = Column(DateTime)
        last_success = Column(DateTime)
        run_count = Column(Integer, default=0)
        error_count = Column(Integer, default=0)
        last_error = Column(Text)
        total_execution_time = Column(Numeric(10, 3), default=0)
        total_records_collected = Column(BigInteger, default=0)
        average_execution_time = Column(Numeric(10, 3), default=0)
        success_rate = Column(Numeric(5, 2), default=100.0)
        health_score = Column(Numeric(5, 2), default=100.0)
        last_updated = Column(DateTime, default=now, onupdate=now)

    class Dex(Base):
        __tablename__ = "dexes"
        id = Column(String(50), primary_key=True)
        name = Column(String(100), nullable=False)
        network = Column(String(20), nullable=False)
        last_updated = Column(DateTime, default=now, onupdate=now)
        metadata_json = Column(Text, default="{}")

    class DiscoveryMetadata(Base):
        __tablename__ = "discovery_metadata"
        id = Column(Integer, primary_key=True)
        discovery_type = Column(String(50), nullable=False)
        target_dex = Column(String(50))
        pools_discovered = Column(Integer, default=0)
        pools_filtered = Column(Integer, default=0)
        discovery_time = Column(DateTime, nullable=False)
        execution_time_seconds = Column(Numeric(10, 3))
        api_calls_made = Column(Integer, default=0)
        errors_encountered = Column(Integer, default=0)
        created_at = Column(DateTime, default=now)

    class ExecutionHistory(Base):
        __tablename__ = "execution_history"
        id = Column(Integer, primary_key=True)
        collector_type = Column(String(50), nullable=False)
        execution_id = Column(String(100), nullable=False, unique=True)
        start_time = Column(DateTime, nullable=False)
        end_time = Column(DateTime)
        status = Column(String(20), nullable=False)
        records_collected = Column(Integer, default=0)
        execution_time = Column(Numeric(10, 3))
        error_message = Column(Text)
        warnings = Column(Text, default="{}")
        execution_metadata = Column(Text, default="{}")
        created_at = Column(DateTime, default=now)

    class NewPoolsHistory(Base):
        __tablename__ = "new_pools_history"
        id = Column(Integer, primary_key=True)
        pool_id = Column(String(255), nullable=False)
        type = Column(String(20))
        name = Column(String(255))
        base_token_price_usd = Column(Numeric(20, 10))
        base_token_price_native_currency = Column(Numeric(20, 10))
        quote_token_price_usd = Column(Numeric(20, 10))
        quote_token_price_native_currency = Column(Numeric(20, 10))
        address = Column(String(255))
        reserve_in_usd = Column(Numeric(20, 4))
        pool_created_at = Column(DateTime)
        fdv_usd = Column(Numeric(20, 4))
        market_cap_usd = Column(Numeric(20, 4))
        price_change_percentage_h1 = Column(Numeric(10, 4))
        price_change_percentage_h24 = Column(Numeric(10, 4))
        transactions_h1_buys = Column(Integer)
        transactions_h1_sells = Column(Integer)
        transactions_h24_buys = Column(Integer)
        transactions_h24_sells = Column(Integer)
        volume_usd_h24 = Column(Numeric(20, 4))
        dex_id = Column(String(100))
        base_token_id = Column(String(255))
        quote_token_id = Column(String(255))
        network_id = Column(String(50))
        collected_at = Column(DateTime)
        __table_args__ = (UniqueConstraint("pool_id", "collected_at", name="uq_new_pools_history_pool_collected"),)

    class Ohlcv(Base):
        __tablename__ = "ohlcv_data"
        id = Column(Integer, primary_key=True)
        pool_id = Column(String(100), ForeignKey("pools.id"), nullable=False)
        timeframe = Column(String(10), nullable=False)
        timestamp = Column(BigInteger, nullable=False)
        open_price = Column(Numeric(30, 18), nullable=False)
        high_price = Column(Numeric(30, 18), nullable=False)
        low_price = Column(Numeric(30, 18), nullable=False)
        close_price = Column(Numeric(30, 18), nullable=False)
        volume_usd = Column(Numeric(20, 8), nullable=False)
        datetime = Column(DateTime, nullable=False)
        created_at = Column(DateTime, default=now)
        __table_args__ = (UniqueConstraint("pool_id", "timeframe", "timestamp", name="uq_ohlcv_pool_timeframe_timestamp"),)

    class PerformanceMetrics(Base):
        __tablename__ = "performance_metrics"
        id = Column(Integer, primary_key=True)
        collector_type = Column(String(50), nullable=False)
        metric_name = Column(String(100), nullable=False)
        metric_value = Column(Numeric(20, 8), nullable=False)
        timestamp = Column(DateTime, nullable=False)
        labels = Column(Text, default="{}")
        created_at = Column(DateTime, default=now)
        __table_args__ = (
            UniqueConstraint("collector_type", "metric_name", "timestamp", name="uq_metrics_collector_metric_timestamp"),
        )

    class Pool(Base):
        __tablename__ = "pools"
        id = Column(String(100), primary_key=True)
        address = Column(String(100), nullable=False)
        name = Column(String(200))
        dex_id = Column(String(50), ForeignKey("dexes.id"), nullable=False)
        base_token_id = Column(String(100))
        quote_token_id = Column(String(100))
        reserve_usd = Column(Numeric(20, 8))
        created_at = Column(DateTime, default=now)
        last_updated = Column(DateTime, default=now, onupdate=now)
        activity_score = Column(Numeric(5, 2))
        discovery_source = Column(String(20), default="auto")
        collection_priority = Column(String(10), default="normal")
        auto_discovered_at = Column(DateTime)
        last_activity_check = Column(DateTime)
        metadata_json = Column(Text, default="{}")

    class SystemAlert(Base):
        __tablename__ = "system_alerts"
        id = Column(Integer, primary_key=True)
        alert_id = Column(String(100), nullable=False, unique=True)
        level = Column(String(20), nullable=False)
        collector_type = Column(String(50), nullable=False)
        message = Column(Text, nullable=False)
        timestamp = Column(DateTime, nullable=False)
        acknowledged = Column(Boolean, default=False)
        resolved = Column(Boolean, default=False)
        alert_metadata = Column(Text, default="{}")
        created_at = Column(DateTime, default=now)
        updated_at = Column(DateTime, default=now, onupdate=now)

    class Token(Base):
        __tablename__ = "tokens"
        id = Column(String(100), primary_key=True)
        address = Column(String(100), nullable=False)
        name = Column(String(200))
        symbol = Column(String(20))
        decimals = Column(Integer)
        network = Column(String(20), nullable=False)
        last_updated = Column(DateTime, default=now, onupdate=now)
        metadata_json = Column(Text, default="{}")

    class Trade(Base):
        __tablename__ = "trades"
        id = Column(String(200), primary_key=True)
        pool_id = Column(String(100), ForeignKey("pools.id"), nullable=False)
        block_number = Column(BigInteger)
        tx_hash = Column(String(100))
        tx_from_address = Column(String(100))
        from_token_amount = Column(Numeric(30, 18))
        to_token_amount = Column(Numeric(30, 18))
        price_usd = Column(Numeric(30, 18))
        volume_usd = Column(Numeric(20, 8))
        side = Column(String(10))
        block_timestamp = Column(DateTime)
        created_at = Column(DateTime, default=now)

    class Watchlist(Base):
        __tablename__ = "watchlist"
        id = Column(Integer, primary_key=True)
        pool_id = Column(String(200), ForeignKey("pools.id"), nullable=False)
        token_symbol = Column(String(50))
        token_name = Column(String(200))
        network_address = Column(String(100))
        is_active = Column(Boolean, nullable=False, default=True)
        created_at = Column(DateTime, default=now)
        updated_at = Column(DateTime, default=now, onupdate=now)
        metadata_json = Column(Text, default="{}")
        __table_args__ = (UniqueConstraint("pool_id", name="uq_watchlist_pool_id"),)

    return SimpleNamespace(
        kind="sqlite", Base=Base, Dex=Dex, Token=Token, Pool=Pool, Trade=Trade, Ohlcv=Ohlcv,
        Watchlist=Watchlist, CollectionMetadata=CollectionMetadata, DiscoveryMetadata=DiscoveryMetadata,
        NewPoolsHistory=NewPoolsHistory, ExecutionHistory=ExecutionHistory,
        PerformanceMetrics=PerformanceMetrics, SystemAlert=SystemAlert,
        metadata_touched="last_updated",
    )


def mapped_models(M):
    return [m for m in (M.Dex, M.Token, M.Pool, M.Trade, M.Ohlcv, M.Watchlist, M.CollectionMetadata,
                        M.DiscoveryMetadata, M.NewPoolsHistory, M.ExecutionHistory, M.PerformanceMetrics,
                        M.SystemAlert) if m is not None]


def column_keys(model):
    return [c.key for c in model.__mapper__.column_attrs]


def only_mapped(model, values):
    """The model's share of a superset of values: the model set decides the column list."""
    keys = set(column_keys(model))
    return {k: v for k, v in values.items() if k in keys}


def has_integer_id(model):
    pk = model.__mapper__.primary_key
    return len(pk) == 1 and pk[0].key == "id" and isinstance(pk[0].type, Integer)


# ---------------------------------------------------------------------------
# Check registry
# ---------------------------------------------------------------------------

BOTH = ("postgresql", "sqlite")
TAG_PREFIX = "ormchk"  # in every key this script writes; rows without it are migrated (or the collector's)


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


@dataclass
class Check:
    name: str  # may hold "{table}" (with `each`) and "{touched}" (the model set's collection_metadata timestamp)
    fn: object
    models: tuple
    each: object = None  # ctx -> list of models; one check per model


CHECKS = []


def check(name, models=BOTH, each=None):
    """Registers a check; `each` expands it into one check per model it returns."""
    def register(fn):
        CHECKS.append(Check(name, fn, models, each))
        return fn
    return register


def describe_error(e):
    """First line of the error (PostgreSQL's message, plus its DETAIL when there is one)."""
    if isinstance(e, DBAPIError) and e.orig is not None:
        orig = e.orig
        line = (str(orig).strip().splitlines() or [""])[0]
        detail = getattr(getattr(orig, "diag", None), "message_detail", None)
        return f"{type(orig).__name__}: {line}" + (f" (DETAIL: {detail})" if detail else "")
    if isinstance(e, CheckFailed):
        return str(e)
    return f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]}"


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (Decimal, datetime)):
        return str(value)
    return value


# ---------------------------------------------------------------------------
# Context: engine, models, unique keys and scaffolding rows
# ---------------------------------------------------------------------------

def utc(value):
    """Aware UTC for comparisons; naive values are UTC (the database TimeZone and what the checks send)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass
class Context:
    engine: object
    M: object       # the model set the URL selects
    PG: object      # the PostgreSQL models (the new-pools collector uses them whatever the URL)
    tag: str = field(default_factory=lambda: TAG_PREFIX + secrets.token_hex(4))
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0))
    _pools: set = field(default_factory=set)

    @property
    def kind(self):
        return self.M.kind

    def when(self, moment):
        """A datetime as the model set sends it: aware for timestamptz models, naive UTC for DateTime ones."""
        return moment if self.kind == "postgresql" else moment.astimezone(timezone.utc).replace(tzinfo=None)

    def key(self, label):
        return f"{self.tag}_{label}"

    def session(self):
        return Session(self.engine, future=True)

    @property
    def dex_id(self):
        return self.key("dex")

    def scaffold_pool(self, label):
        """
        A dex and pool of this run, written with plain SQL in columns both model sets
        and every schema have. Parents for FK-bound rows and targets for updates,
        kept out of the ORM so a check fails for what it tests, not for its fixture.
        """
        pool_id = f"solana_{self.key(label)}"
        if pool_id not in self._pools:
            with self.engine.begin() as conn:
                conn.execute(text("INSERT INTO dexes (id, name, network) VALUES (:id, 'ORM check dex', 'solana') ON CONFLICT DO NOTHING"),
                             {"id": self.dex_id})
                conn.execute(text("INSERT INTO pools (id, address, name, dex_id) VALUES (:id, :address, :name, :dex) ON CONFLICT DO NOTHING"),
                             {"id": pool_id, "address": self.key(label), "name": f"ORM check {label}", "dex": self.dex_id})
            self._pools.add(pool_id)
        return pool_id

    def max_id(self, session, model):
        return session.execute(select(func.max(model.id))).scalar()


def run_checks(ctx):
    results = []
    for c in CHECKS:
        if ctx.kind not in c.models:
            continue
        targets = c.each(ctx) if c.each else [None]
        for target in targets:
            name = c.name.format(table=getattr(target, "__tablename__", ""), touched=ctx.M.metadata_touched)
            try:
                detail = c.fn(ctx, target) if c.each else c.fn(ctx)
                entry = {"name": name, "ok": True}
                if detail is not None:
                    entry["detail"] = jsonable(detail)
            except Exception as e:  # every failure is a result, never a crash
                entry = {"name": name, "ok": False, "error": describe_error(e)}
            results.append(entry)
    return results


# ---------------------------------------------------------------------------
# Sample rows: a superset of columns per table, cut to the model's columns.
# Values fit the narrowest declared type of both model sets and the target.
# ---------------------------------------------------------------------------

def sample(ctx, model, n, **overrides):
    t = ctx.started + timedelta(seconds=n)
    table = model.__tablename__
    if table == "ohlcv_data":
        hour = int(t.timestamp()) // 3600 * 3600 + n * 3600
        values = dict(pool_id=ctx.scaffold_pool("ohlcv"), timeframe="1h", timestamp=hour,
                      datetime=ctx.when(datetime.fromtimestamp(hour, timezone.utc)),
                      open_price=Decimal("1.25"), high_price=Decimal("1.5"), low_price=Decimal("1.125"),
                      close_price=Decimal("1.375"), volume_usd=Decimal("1000.25"))
    elif table == "watchlist":
        pool = ctx.scaffold_pool(f"wl{n}")
        values = dict(pool_id=pool, token_symbol="ORMW", token_name="ORM watch", network_address=pool[len("solana_"):])
    elif table == "collection_metadata":
        values = dict(collector_type=ctx.key(f"coll{n}"), last_run=ctx.when(t), last_success=ctx.when(t), run_count=1)
    elif table == "discovery_metadata":
        values = dict(discovery_type=ctx.key(f"disc{n}"), target_dex=ctx.dex_id, discovery_time=ctx.when(t),
                      execution_time_seconds=Decimal("1.234"), pools_discovered=3)
    elif table == "new_pools_history":
        values = dict(pool_id=f"solana_{ctx.key(f'np{n}')}", type="pool", name="ORM / CHECK", network_id="solana",
                      dex_id=ctx.dex_id, collected_at=ctx.when(t), reserve_in_usd=Decimal("12345.6789"),
                      volume_usd_h24=Decimal("999.5"), base_token_price_usd=Decimal("0.0000012345"),
                      signal_score=Decimal("42.5"), volume_trend="up", discovery_source="auto_new")
    elif table == "execution_history":
        values = dict(collector_type=ctx.key("exec"), execution_id=ctx.key(f"exec{n}"), start_time=ctx.when(t),
                      end_time=ctx.when(t), status="success", records_collected=5)
    elif table == "performance_metrics":
        values = dict(collector_type=ctx.key("perf"), metric_name=f"rows_{n}", metric_value=Decimal("12.5"), timestamp=ctx.when(t))
    elif table == "system_alerts":
        values = dict(alert_id=ctx.key(f"alert{n}"), level="warning", collector_type=ctx.key("alert"),
                      message="ORM check alert", timestamp=ctx.when(t))
    elif table == "trades":
        values = dict(id=f"solana_{ctx.key(f't{n}')}", pool_id=ctx.scaffold_pool("trades"), block_number=300_000_000 + n,
                      tx_hash=ctx.key(f"tx{n}"), tx_from_address="ORMfrom", from_token_amount=Decimal("1000.5"),
                      to_token_amount=Decimal("2.25"), price_usd=Decimal("1.23456789"), volume_usd=Decimal("1234.56"),
                      side="buy", block_timestamp=ctx.when(t))
    else:
        raise ValueError(f"no sample for {table}")
    values.update(overrides)
    return only_mapped(model, values)


def server_id_tables(ctx):
    """Tables whose inserts leave the id to the server (all integer-id tables of the model set)."""
    return [m for m in mapped_models(ctx.M) if has_integer_id(m)]


# ---------------------------------------------------------------------------
# 1. create_all at start-up
# ---------------------------------------------------------------------------

# What SQLAlchemy 2.0's has_table counts as an existing table (1.4's counts any relation).
TABLE_RELKINDS = ("r", "p", "f", "v", "m")


def visible_tables(conn):
    rows = conn.execute(text("SELECT relname, relkind FROM pg_class WHERE pg_table_is_visible(oid) AND relkind = ANY(:k)"),
                        {"k": list(TABLE_RELKINDS)})
    return {r.relname: r.relkind for r in rows}


@check("create_all is a no-op")
def check_create_all(ctx):
    # The collector runs Base.metadata.create_all() at start-up; its role has no CREATE
    # on the schema, so every model table must already exist and nothing may be created.
    with ctx.engine.connect() as conn:
        before = visible_tables(conn)
        can_create = conn.execute(text("SELECT has_schema_privilege(current_schema(), 'CREATE')")).scalar()
    missing = sorted(t.name for t in ctx.M.Base.metadata.sorted_tables if t.name not in before)
    failure = None
    try:
        ctx.M.Base.metadata.create_all(ctx.engine)  # checkfirst=True
    except Exception as e:
        failure = describe_error(e)
    with ctx.engine.connect() as conn:
        after = visible_tables(conn)
    created = sorted(set(after) - set(before))
    problems = []
    if missing:
        problems.append(f"model tables missing: {', '.join(missing)}")
    if failure:
        problems.append(f"create_all failed: {failure}")
    if created:
        problems.append(f"create_all created {', '.join(created)}")
    expect(not problems, "; ".join(problems))
    return {"tables": len(ctx.M.Base.metadata.tables), "role_can_create": can_create}


# ---------------------------------------------------------------------------
# 2. Reads of every model
# ---------------------------------------------------------------------------

@check("read {table}", each=lambda ctx: mapped_models(ctx.M))
def check_read(ctx, model):
    # select(Model) lists every mapped column: one the table lacks fails the statement.
    with ctx.session() as s:
        rows = s.execute(select(model).limit(20)).scalars().all()
        keys = column_keys(model)
        for row in rows:
            for k in keys:
                getattr(row, k)
        count = s.execute(select(func.count()).select_from(model)).scalar_one()
    return {"rows": count, "loaded": len(rows)}


# ---------------------------------------------------------------------------
# 3. Inserts through the ORM
# ---------------------------------------------------------------------------

@check("insert dexes, tokens, pools (explicit ids)")
def check_insert_reference(ctx):
    M = ctx.M
    dex_id, base_id, quote_id, pool_id = ctx.key("odex"), f"solana_{ctx.key('base')}", f"solana_{ctx.key('quote')}", f"solana_{ctx.key('opool')}"
    with ctx.session() as s, s.begin():
        # Parents flushed first: the PostgreSQL models declare no foreign keys, so the
        # unit of work would not order these inserts by itself.
        s.add(M.Dex(id=dex_id, name="ORM dex", network="solana"))
        s.flush()
        s.add_all([
            M.Token(id=base_id, address=ctx.key("base"), name="ORM base", symbol="ORMB", decimals=9, network="solana"),
            M.Token(id=quote_id, address=ctx.key("quote"), name="ORM quote", symbol="ORMQ", decimals=6, network="solana"),
        ])
        s.flush()
        s.add(M.Pool(id=pool_id, address=ctx.key("opool"), name="ORMB / ORMQ", dex_id=dex_id, base_token_id=base_id,
                     quote_token_id=quote_id, reserve_usd=Decimal("12345.67"), activity_score=Decimal("42.5")))
    with ctx.session() as s:
        dex, pool = s.get(M.Dex, dex_id), s.get(M.Pool, pool_id)
        expect(dex is not None and pool is not None and s.get(M.Token, base_id) is not None, "inserted rows not found")
        # Python-side defaults went with the INSERT.
        expect(dex.metadata_json in ({}, "{}"), f"dexes.metadata_json is {dex.metadata_json!r}, expected {{}}")
        expect(pool.last_updated is not None and pool.created_at is not None, "pools.created_at/last_updated not set")
        expected_source = "manual" if ctx.kind == "postgresql" else "auto"
        expect((pool.discovery_source, pool.collection_priority) == (expected_source, "normal"),
               f"pool defaults are {pool.discovery_source!r}/{pool.collection_priority!r}")
        expect(pool.reserve_usd == Decimal("12345.67"), f"reserve_usd read back as {pool.reserve_usd}")
    return {"pool": pool_id}


@check("insert trades (explicit ids)")
def check_insert_trades(ctx):
    M = ctx.M
    rows = [sample(ctx, M.Trade, n) for n in (1, 2)]
    with ctx.session() as s, s.begin():
        s.add_all([M.Trade(**r) for r in rows])
    with ctx.session() as s:
        for r in rows:
            t = s.get(M.Trade, r["id"])
            expect(t is not None, f"trade {r['id']} not found")
            expect(t.volume_usd == r["volume_usd"] and utc(t.block_timestamp) == utc(r["block_timestamp"]),
                   f"trade {r['id']} read back as volume {t.volume_usd}, time {t.block_timestamp}")
    return {"trades": len(rows)}


@check("insert {table} (server-assigned id)", each=server_id_tables)
def check_insert_server_id(ctx, model):
    # INSERTs omit id: the sequence must be past every migrated id, or the new id
    # collides with (or hides among) migrated ones.
    values = sample(ctx, model, 10)
    with ctx.session() as s, s.begin():
        before = ctx.max_id(s, model)
        row = model(**values)
        s.add(row)
        s.flush()
        expect(row.id is not None, "no id came back")
        expect(before is None or row.id > before, f"server-assigned id {row.id} is not above the existing maximum {before}")
        new_id = row.id
    with ctx.session() as s:
        expect(s.get(model, new_id) is not None, f"{model.__tablename__} {new_id} not found after commit")
    return {"id": new_id, "previous_max": before}


@check("insert collection_metadata (natural key)", models=("sqlite",))
def check_insert_collection_metadata_sqlite(ctx):
    # The SQLite model's key is collector_type itself.
    M = ctx.M
    values = sample(ctx, M.CollectionMetadata, 11)
    with ctx.session() as s, s.begin():
        s.add(M.CollectionMetadata(**values))
    with ctx.session() as s:
        row = s.get(M.CollectionMetadata, values["collector_type"])
        expect(row is not None, "row not found")
        expect((row.error_count, row.success_rate) == (0, Decimal("100")), f"defaults read back as {row.error_count}, {row.success_rate}")


@check("insert {table} (explicit id, rolled back)", each=server_id_tables)
def check_insert_explicit_id(ctx, model):
    # A model may also insert its own id (identity BY DEFAULT, not ALWAYS). Rolled
    # back so the far-away id does not sit above the sequence for later runs.
    values = sample(ctx, model, 20)  # before the session: it may commit a scaffold pool
    with ctx.session() as s:
        try:
            explicit = (ctx.max_id(s, model) or 0) + 10_000_000
            s.add(model(id=explicit, **values))
            s.flush()
            s.expunge_all()
            found = s.execute(select(model).where(model.id == explicit)).scalar_one_or_none()
            expect(found is not None, f"row with explicit id {explicit} not found")
        finally:
            s.rollback()
    return {"id": explicit}


@check("new-pools collector inserts with the PostgreSQL model", models=("sqlite",))
def check_new_pools_pg_model(ctx):
    # The new-pools collector builds its rows from the PostgreSQL model whatever the URL.
    NP = ctx.PG.NewPoolsHistory
    with ctx.session() as s, s.begin():
        before = ctx.max_id(s, NP)
        row = NP(**sample(ctx, NP, 30))
        s.add(row)
        s.flush()
        new_id = row.id
        expect(before is None or new_id > before, f"server-assigned id {new_id} is not above {before}")
    return {"id": new_id}


# ---------------------------------------------------------------------------
# 4. OHLCV upsert
# ---------------------------------------------------------------------------

PRICE_COLUMNS = ("open_price", "high_price", "low_price", "close_price", "volume_usd")


def upsert_candle(session, model, values):
    stmt = pg_insert(model).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["pool_id", "timeframe", "timestamp"],
                                      set_={c: stmt.excluded[c] for c in PRICE_COLUMNS})
    session.execute(stmt)


def candle_at(session, model, key):
    return session.execute(select(model).where(model.pool_id == key[0], model.timeframe == key[1], model.timestamp == key[2])).scalars().all()


@check("upsert ohlcv_data (new and existing candles)")
def check_upsert_ohlcv(ctx):
    O = ctx.M.Ohlcv
    first = sample(ctx, O, 40)
    key = (first["pool_id"], first["timeframe"], first["timestamp"])
    changed = {"open_price": Decimal("2.5"), "high_price": Decimal("3.75"), "low_price": Decimal("2.25"),
               "close_price": Decimal("3.125"), "volume_usd": Decimal("2000.5")}
    with ctx.session() as s, s.begin():
        total = s.execute(select(func.count()).select_from(O)).scalar_one()
        upsert_candle(s, O, first)  # new candle: inserted
        rows = candle_at(s, O, key)
        expect(len(rows) == 1, f"new candle: {len(rows)} rows")
        new_id = rows[0].id
        upsert_candle(s, O, {**first, **changed})  # same key: updated in place
        s.expire_all()
        rows = candle_at(s, O, key)
        expect(len(rows) == 1 and rows[0].id == new_id, f"re-upserted candle: {len(rows)} rows")
        expect(all(getattr(rows[0], c) == v for c, v in changed.items()), "re-upserted candle kept its old values")
        expect(s.execute(select(func.count()).select_from(O)).scalar_one() == total + 1, "row count is not +1")

        # A candle the migration loaded: deliberately updated (the only migrated row a check changes).
        existing = s.execute(select(O).where(~O.pool_id.like(f"%{TAG_PREFIX}%")).order_by(O.id).limit(1)).scalar_one_or_none()
        if existing is None:
            return {"existing": "no migrated candle in the database"}
        existing_id = existing.id
        ekey = (existing.pool_id, existing.timeframe, existing.timestamp)
        # Random per run, so a rerun on the same database changes the candle again.
        k = 2 + secrets.randbelow(10**7)
        fresh = {"low_price": Decimal(k) / 10**8, "open_price": Decimal(k + 1) / 10**8, "close_price": Decimal(k + 2) / 10**8,
                 "high_price": Decimal(k + 3) / 10**8, "volume_usd": Decimal(k) / 100}
        expect(any(getattr(existing, c) != v for c, v in fresh.items()), "existing candle already holds the new values")
        upsert_candle(s, O, {**{c: getattr(existing, c) for c in ("pool_id", "timeframe", "timestamp", "datetime")}, **fresh})
        s.expire_all()
        rows = candle_at(s, O, ekey)
        expect(len(rows) == 1 and rows[0].id == existing_id, f"existing candle: {len(rows)} rows after upsert")
        expect(all(getattr(rows[0], c) == v for c, v in fresh.items()), "existing candle kept its old values")
        expect(s.execute(select(func.count()).select_from(O)).scalar_one() == total + 1, "row count changed on an existing candle")
    return {"existing": existing_id}


# ---------------------------------------------------------------------------
# 5. Trade ingest with duplicate ids
# ---------------------------------------------------------------------------

BIG_AMOUNT = Decimal("1234567890123.123456789012345678")  # 10^12 with 18 decimals: must read back exactly


def trade_snapshot(trade):
    return {k: getattr(trade, k) for k in column_keys(type(trade))}


def ingest_trades(ctx, label, on_conflict):
    T = ctx.M.Trade
    with ctx.session() as s, s.begin():
        # An id already present: a migrated trade if there is one, and one of ours.
        own = T(**sample(ctx, T, 0, id=f"solana_{ctx.key(label + '_own')}"))
        s.add(own)
        s.flush()
        s.expire_all()  # snapshots below hold what the database stored, not what was sent
        migrated = s.execute(select(T).where(~T.id.like(f"%{TAG_PREFIX}%")).order_by(T.id).limit(1)).scalar_one_or_none()
        present = [own] + ([migrated] if migrated else [])
        before = {t.id: trade_snapshot(t) for t in present}
        news = [sample(ctx, T, n, id=f"solana_{ctx.key(f'{label}_{n}')}") for n in (1, 2)]
        news[0]["from_token_amount"] = BIG_AMOUNT
        # Duplicates carry other values (and the same keys as the new rows: one multi-row
        # VALUES list); DO NOTHING must keep the stored ones.
        dups = [{**{k: before[t.id][k] for k in news[0]}, "volume_usd": Decimal("1.11"), "side": "sell"} for t in present]
        batch = [news[0], *dups, news[1]]
        ids = [r["id"] for r in batch]
        # The collector first asks which ids exist (query 4).
        found = set(s.execute(select(T.id).where(T.id.in_(ids))).scalars())
        expect(found == set(before), f"SELECT id IN found {sorted(found)}, expected {sorted(before)}")
        result = s.execute(on_conflict(pg_insert(T).values(batch)))
        expect(result.rowcount == len(news), f"{result.rowcount} rows inserted, expected {len(news)}")
    with ctx.session() as s:
        for tid, snap in before.items():
            after = trade_snapshot(s.get(T, tid))
            expect(after == snap, f"duplicate {tid} changed: {jsonable({k: after[k] for k in after if after[k] != snap[k]})}")
        big = s.get(T, news[0]["id"])
        expect(big is not None and s.get(T, news[1]["id"]) is not None, "new trades not inserted")
        expect(big.from_token_amount == BIG_AMOUNT, f"from_token_amount read back as {big.from_token_amount}, sent {BIG_AMOUNT}")
    return {"duplicates": sorted(before), "inserted": len(news)}


@check("ingest trades ON CONFLICT (id) DO NOTHING")
def check_ingest_trades_id(ctx):
    return ingest_trades(ctx, "ci", lambda stmt: stmt.on_conflict_do_nothing(index_elements=["id"]))


@check("ingest trades bare ON CONFLICT DO NOTHING")
def check_ingest_trades_bare(ctx):
    return ingest_trades(ctx, "cb", lambda stmt: stmt.on_conflict_do_nothing())


# ---------------------------------------------------------------------------
# 6. Updates that fire onupdate
# ---------------------------------------------------------------------------

# Rows the onupdate checks change start with this timestamp, so a change is unmistakable.
LONG_AGO = "2001-01-01 00:00:00+00"


def check_onupdate(ctx, model, where, column, change):
    """Changes a row of this run through the ORM; `column` must become the transaction's now()."""
    with ctx.session() as s, s.begin():
        row = s.execute(select(model).where(where)).scalar_one()
        old = getattr(row, column)
        change(row)
        s.flush()  # UPDATE ... SET <changed>, <column> = now()
        new, now = getattr(row, column), s.execute(select(func.now())).scalar_one()
        expect(utc(new) == utc(now), f"{model.__tablename__}.{column} is {new}, the server's now() is {now}")
        expect(utc(old) != utc(new), f"{model.__tablename__}.{column} did not change")
    return {"before": old, "after": new}


@check("onupdate pools.last_updated")
def check_onupdate_pool(ctx):
    P = ctx.M.Pool
    pool_id = ctx.scaffold_pool("upd")
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE pools SET last_updated = :t WHERE id = :p"), {"t": LONG_AGO, "p": pool_id})
    return check_onupdate(ctx, P, P.id == pool_id, "last_updated", lambda p: setattr(p, "reserve_usd", Decimal("777.77")))


@check("onupdate watchlist.updated_at")
def check_onupdate_watchlist(ctx):
    W = ctx.M.Watchlist
    pool_id = ctx.scaffold_pool("wlupd")
    with ctx.engine.begin() as conn:
        conn.execute(text("INSERT INTO watchlist (pool_id, is_active, updated_at) VALUES (:p, true, :t) ON CONFLICT DO NOTHING"),
                     {"p": pool_id, "t": LONG_AGO})
    return check_onupdate(ctx, W, W.pool_id == pool_id, "updated_at", lambda w: setattr(w, "token_symbol", "ORMU"))


@check("onupdate collection_metadata.{touched}")
def check_onupdate_collection_metadata(ctx):
    C = ctx.M.CollectionMetadata
    collector = ctx.key("collupd")
    with ctx.engine.begin() as conn:
        # The timestamp column is the model set's: updated_at (PostgreSQL models) or last_updated (SQLite models).
        conn.execute(text(f"INSERT INTO collection_metadata (collector_type, {ctx.M.metadata_touched}) VALUES (:c, :t) ON CONFLICT DO NOTHING"),
                     {"c": collector, "t": LONG_AGO})
    return check_onupdate(ctx, C, C.collector_type == collector, ctx.M.metadata_touched, lambda c: setattr(c, "run_count", 5))


@check("onupdate system_alerts.updated_at", models=("sqlite",))
def check_onupdate_alert(ctx):
    A = ctx.M.SystemAlert
    alert = ctx.key("alertupd")
    with ctx.engine.begin() as conn:
        conn.execute(text("INSERT INTO system_alerts (alert_id, level, collector_type, message, timestamp, updated_at) "
                          "VALUES (:a, 'info', 'orm', 'ORM check', now(), :t) ON CONFLICT DO NOTHING"), {"a": alert, "t": LONG_AGO})
    return check_onupdate(ctx, A, A.alert_id == alert, "updated_at", lambda a: setattr(a, "acknowledged", True))


# ---------------------------------------------------------------------------
# 7. Duplicate new_pools_history rows
# ---------------------------------------------------------------------------

def duplicate_history(ctx, NP, n):
    values = sample(ctx, NP, n, collected_at=ctx.when(ctx.started - timedelta(minutes=5)))
    with ctx.session() as s, s.begin():
        s.add(NP(**values))
    try:
        with ctx.session() as s, s.begin():
            s.add(NP(**values))
    except IntegrityError as e:
        # The collector swallows the duplicate only when the message names the constraint.
        expect("uq_new_pools_history_pool_collected" in str(e.orig),
               f"IntegrityError does not name uq_new_pools_history_pool_collected: {describe_error(e)}")
        return {"error": describe_error(e)}
    raise CheckFailed("a duplicate (pool_id, collected_at) was accepted")


@check("duplicate new_pools_history raises uq_new_pools_history_pool_collected")
def check_duplicate_history(ctx):
    return duplicate_history(ctx, ctx.M.NewPoolsHistory, 50)


@check("duplicate new_pools_history via the PostgreSQL model", models=("sqlite",))
def check_duplicate_history_pg_model(ctx):
    # The new-pools collector's own path whatever the URL (see its insert check).
    return duplicate_history(ctx, ctx.PG.NewPoolsHistory, 51)


# ---------------------------------------------------------------------------
# 8. The collector's most frequent reads (collector-facts.md, 1-11)
# ---------------------------------------------------------------------------

def descending(values):
    return all(a >= b for a, b in zip(values, values[1:]))


@check("query 1: active watchlist, then each pool by id")
def check_query_watchlist(ctx):
    M = ctx.M
    with ctx.session() as s:
        entries = s.execute(select(M.Watchlist).where(M.Watchlist.is_active == True)).scalars().all()  # noqa: E712
        expect(all(w.is_active for w in entries), "an inactive entry came back")
        pools = [s.execute(select(M.Pool).where(M.Pool.id == w.pool_id)).scalar_one_or_none() for w in entries[:50]]
    return {"active": len(entries), "pools_found": sum(p is not None for p in pools)}


def busiest(s, columns, fallback):
    """
    Values of `columns` for the group with the most rows, so a query reads real data when
    there is some; `fallback` on an empty table, where the statement must still run (a
    missing column fails it all the same).
    """
    row = s.execute(select(*columns).group_by(*columns).order_by(func.count().desc()).limit(1)).first()
    return tuple(row) if row is not None else fallback


def nobody(ctx):
    return f"solana_{ctx.key('nobody')}"


def last_day(ctx):
    return ctx.when(ctx.started - timedelta(days=1)), ctx.when(ctx.started)


@check("query 2: ohlcv by pool and timeframe in a datetime window, by datetime")
def check_query_ohlcv(ctx):
    O = ctx.M.Ohlcv
    with ctx.session() as s:
        pool_id, timeframe = busiest(s, (O.pool_id, O.timeframe), (nobody(ctx), "1h"))
        series = s.execute(select(O).where(O.pool_id == pool_id, O.timeframe == timeframe).order_by(O.datetime)).scalars().all()
        times = [utc(c.datetime) for c in series]
        expect(times == sorted(times), "not ordered by datetime")
        lo, hi = (series[0].datetime, series[len(series) // 2].datetime) if series else last_day(ctx)
        window = s.execute(select(O).where(O.pool_id == pool_id, O.timeframe == timeframe, O.datetime.between(lo, hi))
                           .order_by(O.datetime)).scalars().all()
        inside = sum(1 for t in times if utc(lo) <= t <= utc(hi))
        expect(len(window) == inside, f"window returned {len(window)} rows, {inside} lie in it")
        expect(all(utc(lo) <= utc(c.datetime) <= utc(hi) for c in window), "window returned rows outside it")
    return {"series": len(series), "window": len(window)}


@check("query 3: trades by pool, time window and min volume, newest first")
def check_query_trades(ctx):
    T = ctx.M.Trade
    with ctx.session() as s:
        (pool_id,) = busiest(s, (T.pool_id,), (nobody(ctx),))
        bounds = s.execute(select(func.min(T.block_timestamp), func.max(T.block_timestamp)).where(T.pool_id == pool_id)).one()
        lo, hi = bounds if bounds[0] is not None else last_day(ctx)
        rows = s.execute(select(T).where(T.pool_id == pool_id, T.block_timestamp >= lo, T.block_timestamp <= hi,
                                         T.volume_usd >= 0).order_by(T.block_timestamp.desc())).scalars().all()
        stamps = [utc(t.block_timestamp) for t in rows if t.block_timestamp is not None]
        expect(descending(stamps), "not ordered by block_timestamp DESC")
        expect(all(t.volume_usd >= 0 for t in rows), "min volume filter not applied")
    return {"rows": len(rows)}


@check("query 4: trade ids IN (...500...)")
def check_query_trade_ids(ctx):
    T = ctx.M.Trade
    with ctx.session() as s:
        present = s.execute(select(T.id).order_by(T.id.desc()).limit(490)).scalars().all()
        asked = present + [f"solana_{ctx.key(f'absent{n}')}" for n in range(10)]
        found = set(s.execute(select(T.id).where(T.id.in_(asked))).scalars())
        expect(found == set(present), f"found {len(found)} of {len(present)} present ids")
    return {"asked": len(asked), "found": len(found)}


@check("query 7: new_pools_history per pool and per network")
def check_query_history(ctx):
    NP = ctx.M.NewPoolsHistory
    detail = {}
    with ctx.session() as s:
        (pool_id,) = busiest(s, (NP.pool_id,), (nobody(ctx),))
        since = s.execute(select(func.min(NP.collected_at))).scalar() or last_day(ctx)[0]
        rows = s.execute(select(NP).where(NP.pool_id == pool_id, NP.collected_at >= since).order_by(NP.collected_at.desc())).scalars().all()
        expect(descending([utc(r.collected_at) for r in rows]), "per-pool history not ordered by collected_at DESC")
        detail["per_pool"] = len(rows)
        (network,) = busiest(s, (NP.network_id,), ("solana",))
        if "signal_score" in column_keys(NP):  # only the PostgreSQL model maps it
            ranked = s.execute(select(NP).where(NP.network_id == network, NP.collected_at >= since, NP.signal_score >= 0)
                               .order_by(NP.signal_score.desc()).limit(50)).scalars().all()
            expect(descending([r.signal_score for r in ranked]), "not ordered by signal_score DESC")
            detail["ranked"] = len(ranked)
        else:
            recent = s.execute(select(NP).where(NP.network_id == network, NP.collected_at >= since)
                               .order_by(NP.collected_at.desc()).limit(50)).scalars().all()
            detail["recent"] = len(recent)
    return detail


@check("query 8: new_pools_history statistics")
def check_query_statistics(ctx):
    NP = ctx.M.NewPoolsHistory
    with ctx.session() as s:
        total = s.execute(select(func.count()).select_from(NP)).scalar_one()
        per_network = s.execute(select(NP.network_id, func.count()).group_by(NP.network_id)).all()
        per_dex = s.execute(select(NP.dex_id, func.count()).group_by(NP.dex_id)).all()
        hour = func.date_trunc("hour", NP.collected_at).label("hour")
        hourly = s.execute(select(hour, func.count(func.distinct(NP.pool_id)), func.avg(NP.reserve_in_usd), func.sum(NP.volume_usd_h24))
                           .where(NP.collected_at >= datetime(2000, 1, 1, tzinfo=timezone.utc)).group_by(hour).order_by(hour)).all()
        expect(sum(n for _, n in per_network) == total and sum(n for _, n in per_dex) == total, "group counts do not add up to the total")
    return {"total": total, "networks": len(per_network), "dexes": len(per_dex), "hours": len(hourly)}


@check("query 9: per-pool ohlcv and trade statistics")
def check_query_pool_stats(ctx):
    O, T = ctx.M.Ohlcv, ctx.M.Trade
    with ctx.session() as s:
        (pool_id,) = busiest(s, (O.pool_id,), (nobody(ctx),))
        candles = s.execute(select(func.count()).select_from(O).where(O.pool_id == pool_id)).scalar_one()
        per_tf = s.execute(select(O.timeframe, func.count(), func.min(O.datetime), func.max(O.datetime))
                           .where(O.pool_id == pool_id).group_by(O.timeframe)).all()
        expect(sum(r[1] for r in per_tf) == candles, "per-timeframe counts do not add up")
        trades = s.execute(select(func.sum(T.volume_usd), func.avg(T.volume_usd), func.max(T.volume_usd),
                                  func.min(T.block_timestamp), func.max(T.block_timestamp)).where(T.pool_id == pool_id)).one()
    return {"candles": candles, "timeframes": len(per_tf), "trade_volume": trades[0]}


@check("query 11: pools by activity_score DESC and the discovery query")
def check_query_discovery(ctx):
    P = ctx.M.Pool
    with ctx.session() as s:
        ranked = s.execute(select(P).order_by(P.activity_score.desc()).limit(100)).scalars().all()
        scores = [p.activity_score for p in ranked]
        # No NULLS LAST in the collector's query: PostgreSQL puts NULLs first in DESC (SQLite last).
        leading_nulls = next((i for i, v in enumerate(scores) if v is not None), len(scores))
        expect(descending([v for v in scores if v is not None]), "not ordered by activity_score DESC")
        cutoff = ctx.when(ctx.started - timedelta(hours=1))
        due = s.execute(select(P).where(P.discovery_source.in_(["auto", "auto_new"]), P.collection_priority != "paused",
                                        or_(P.last_activity_check.is_(None), P.last_activity_check < cutoff)).limit(100)).scalars().all()
        expect(all(p.discovery_source in ("auto", "auto_new") and p.collection_priority != "paused" for p in due), "discovery filter not applied")
    return {"ranked": len(ranked), "nulls_first": leading_nulls, "due": len(due)}


# ---------------------------------------------------------------------------
# 9. Retention deletes (rows of this run only)
# ---------------------------------------------------------------------------

def retention(ctx, model, column, insert_sql, label):
    pool_id = ctx.scaffold_pool(label)
    recent = ctx.started
    old = [recent - timedelta(hours=2), recent - timedelta(minutes=90)]
    with ctx.engine.begin() as conn:
        for n, moment in enumerate(old + [recent]):
            conn.execute(text(insert_sql), {"pool": pool_id, "id": f"solana_{ctx.key(f'{label}{n}')}", "n": n,
                                            "ts": int(moment.timestamp()), "at": moment})
    cutoff = ctx.when(recent - timedelta(hours=1))
    col = getattr(model, column)
    with ctx.session() as s, s.begin():
        # Retention: DELETE ... WHERE <time> < cutoff (limited to this run's pool).
        result = s.execute(delete(model).where(col < cutoff, model.pool_id == pool_id).execution_options(synchronize_session=False))
        expect(result.rowcount == len(old), f"deleted {result.rowcount} rows, expected {len(old)}")
    with ctx.session() as s:
        left = s.execute(select(func.count()).select_from(model).where(model.pool_id == pool_id)).scalar_one()
        expect(left == 1, f"{left} rows left, expected the recent one")
    return {"deleted": len(old)}


@check("retention delete ohlcv_data WHERE datetime < cutoff")
def check_retention_ohlcv(ctx):
    return retention(ctx, ctx.M.Ohlcv, "datetime",
                     "INSERT INTO ohlcv_data (pool_id, timeframe, timestamp, datetime, open_price, high_price, low_price, close_price, volume_usd) "
                     "VALUES (:pool, '1m', :ts, :at, 1, 1, 1, 1, 1)", "retohlcv")


@check("retention delete trades WHERE block_timestamp < cutoff")
def check_retention_trades(ctx):
    return retention(ctx, ctx.M.Trade, "block_timestamp",
                     "INSERT INTO trades (id, pool_id, block_number, tx_hash, block_timestamp, volume_usd) "
                     "VALUES (:id, :pool, :n, :id, :at, 1)", "rettrades")


# ---------------------------------------------------------------------------

def models_for(url):
    # The collector's rule: only these two prefixes select the PostgreSQL models.
    return "postgresql" if url.startswith(("postgresql://", "postgres://")) else "sqlite"


def driver_url(url):
    # Both model sets run on psycopg2 (the default driver of postgresql:// too).
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def main():
    url = os.environ.get("GECKO_DB_URL")
    if not url:
        print("collector_orm.py: set GECKO_DB_URL to the database URL (never passed as an argument)", file=sys.stderr)
        return 2
    pg, sq = postgresql_models(), sqlite_models()
    M = pg if models_for(url) == "postgresql" else sq
    try:
        engine = create_engine(driver_url(url), future=True)
    except Exception as e:  # its message would quote the URL, password included
        print(f"collector_orm.py: GECKO_DB_URL is not a usable database URL ({type(e).__name__})", file=sys.stderr)
        return 2
    password = engine.url.password
    try:
        results = run_checks(Context(engine=engine, M=M, PG=pg))
    finally:
        engine.dispose()
    for r in results:
        if password and "error" in r:
            r["error"] = r["error"].replace(password, "****")
    failed = sum(not r["ok"] for r in results)
    print(json.dumps({"models": M.kind, "checks": results, "passed": len(results) - failed, "failed": failed}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
