package dev.vigil.ingestion.domain;

import dev.vigil.schemas.RecordSeals;

/** A record from an agent topic as ingestion takes it: its value and the seal its headers carry. */
public record AgentRecord(byte[] value, RecordSeals.Seal seal) {}
