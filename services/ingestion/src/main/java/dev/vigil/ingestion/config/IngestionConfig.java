package dev.vigil.ingestion.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/** Ingestion's own settings ({@code vigil.ingestion.*}). */
@ConfigMapping(prefix = "vigil.ingestion")
public interface IngestionConfig {

    /** Records larger than this many bytes are dead-lettered as OVERSIZED without being decoded. */
    @WithDefault("1048576")
    int maxRecordBytes();

    /** Events that occurred longer ago than this are dead-lettered as TIMESTAMP_OUT_OF_RANGE. */
    @WithDefault("P30D")
    Duration maxEventAge();

    /** Events stamped further in the future than this (agent clock skew) are dead-lettered too. */
    @WithDefault("PT5M")
    Duration maxClockSkew();

    /**
     * How often unverified artifacts are checked against the object store (a Quarkus scheduler interval), besides
     * the check that every arriving manifest asks for at once.
     */
    @WithDefault("10s")
    String artifactVerifyEvery();

    /** How many unverified artifacts one verification round checks. */
    @WithDefault("20")
    int artifactVerifyBatch();

    /** How long an artifact's object may be absent before it is marked MISSING (uploads can lag a little). */
    @WithDefault("PT5M")
    Duration artifactMissingGrace();

    /**
     * One row is kept per host per bucket of this length: its first sample record in it, every VM of that record
     * (counters are cumulative, so rates between buckets stay exact). Zero keeps every sample record; the
     * full-resolution stream is the energy service's.
     */
    @WithDefault("PT1M")
    Duration vmSampleResolution();

    /** How long sample rows are kept (the energy service keeps its own aggregates). */
    @WithDefault("P7D")
    Duration sampleRetention();

    /**
     * How many times a polled batch whose processing failed (not a refused record: a database error, a bug) is tried,
     * and then each of its records alone, before a record that still fails alone goes to the dead-letter topic as
     * {@code PROCESSING_FAILED}.
     */
    @WithDefault("3")
    int retryAttempts();

    /** The first wait between those tries; it doubles each time. */
    @WithDefault("PT1S")
    Duration retryBackoff();

    /** How long an incident waits for its evidence before its crash report goes out incomplete. */
    @WithDefault("PT10M")
    Duration incidentDeadline();

    /** Triggers of one kind on one VM this close together are one incident (a panic, then libvirt's crash). */
    @WithDefault("PT30S")
    Duration incidentCoalesceWindow();

    /**
     * Whether an incident's trigger is reported at once, provisionally, by what the hypervisor said, so that crash
     * triage can file it before its evidence is in; the report with the evidence follows either way.
     */
    @WithDefault("true")
    boolean provisionalReports();

    /**
     * How often open incidents are checked for a due crash report (a Quarkus scheduler interval), besides the check
     * that every recorded trigger and verified artifact asks for at once.
     */
    @WithDefault("2s")
    String incidentCheckEvery();

    /** Evidence a crash's report waits for when the agent does not announce its capture plan. */
    @WithDefault("SCREENSHOT,CONSOLE_TEXT,MEMORY_DUMP,DOMAIN_XML")
    List<String> crashEvidence();

    /** Evidence a hang's report waits for when the agent does not announce its capture plan. */
    @WithDefault("SCREENSHOT,CONSOLE_TEXT,DOMAIN_XML")
    List<String> hangEvidence();

    /** Evidence a watchdog's report waits for when the agent does not announce its capture plan. */
    @WithDefault("SCREENSHOT,CONSOLE_TEXT,DOMAIN_XML,SNAPSHOT_REF")
    List<String> watchdogEvidence();

    /** Evidence the report of a pause on an I/O error waits for when the agent does not announce its plan. */
    @WithDefault("SCREENSHOT,CONSOLE_TEXT,DOMAIN_XML,SNAPSHOT_REF")
    List<String> ioErrorEvidence();

    /** The longest silence about a running VM that is still credited as uptime. */
    @WithDefault("PT5M")
    Duration uptimeMaxGap();

    /** Tenants this deployment serves; {@code *} accepts any. Others are dead-lettered as UNKNOWN_TENANT. */
    @WithDefault("*")
    Set<String> tenants();

    /**
     * Whether every agent record must be sealed by the record key of the host and tenant its envelope names (ADR
     * 0007); a record that is not is dead-lettered as IDENTITY_MISMATCH. Needs the deployment's record-key secret
     * ({@code vigil.identity.record-key.secret}). Off only where every producer is trusted, said explicitly.
     */
    @WithName("identity.enforce")
    @WithDefault("true")
    boolean enforceIdentity();

    /** How long a feedback's screenshot link ({@code screenshotUrl}, presigned) works after the page was read. */
    @WithDefault("PT15M")
    Duration screenshotLinkTtl();
}
