package dev.vigil.dispatch.service;

/** Where a command goes: a host, and the VM on it it acts on (null for host-level commands). */
public record CommandTarget(String hostId, String vmUuid, String vmName) {}
