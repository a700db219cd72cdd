package dev.vigil.triage.bucket;

import dev.vigil.triage.signature.Signature;

/**
 * What triage read from an incident and the signature it gave.
 *
 * @param kind {@code linux-console}, {@code linux-vmcore}, {@code windows-dump-header}, {@code hypervisor-panic} or
 *     {@code hypervisor}
 * @param facts the parsed facts, or null
 * @param signature the signature
 */
public record Evidence(String kind, Object facts, Signature signature) {}
