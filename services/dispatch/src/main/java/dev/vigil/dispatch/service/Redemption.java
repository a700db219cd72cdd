package dev.vigil.dispatch.service;

import dev.vigil.schemas.RecordSeals;
import java.util.List;
import java.util.Map;

/**
 * What an agent gets for redeeming an enrolment token: its host token for the agent API, what to install, the root
 * chain from the root the token pins to the current one (signed bytes), its signed license, and the record key its
 * agent seals records with.
 */
public record Redemption(
        String hostId,
        String hostToken,
        String product,
        String channel,
        String release,
        List<byte[]> roots,
        byte[] license,
        Map<String, String> parameters,
        RecordSeals.HostKey recordKey) {}
