package dev.vigil.ingestion.domain;

import java.time.Instant;

/** A VM's inventory row while a poll of events is replayed against it. */
public final class VmRow {

    public final String vmUuid;
    public String name;
    public String hostId;
    public String tenant;
    public String product;
    public String release;
    public String state;
    public String stateReason;
    public Instant stateAt;
    public boolean running;
    public Instant countedUntil;
    public Instant firstSeen;
    public Instant lastSeen;
    /** Whether the replay changed the row (only changed rows are written back). */
    public boolean changed;

    public VmRow(String vmUuid) {
        this.vmUuid = vmUuid;
    }
}
