package dev.vigil.agent.spool;

/** A record read back from a lane, with the position to acknowledge once it is published. */
public record SpooledRecord(Lane lane, SpoolPosition position, SpoolRecord record) {}
