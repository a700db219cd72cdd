package dev.vigil.triage.api;

import java.util.List;
import java.util.Map;

/**
 * The signature of pasted evidence.
 *
 * @param evidence {@code linux-console} or {@code windows-dump-header}
 * @param facts what the parser read (a {@code KernelReport} or a {@code WindowsDumpHeader})
 * @param title the human title
 * @param keys {@code instant} and {@code symbolic}
 * @param symbolic the readable text the symbolic key hashes
 * @param frames the normalized frames in the symbolic key
 * @param rulesVersion the signature rules version
 * @param corrupted why the report is corrupted (interleaved with other output, or cut before what its title needs),
 *     or null: a corrupted report is titled by its kind, {@code ... in corrupted}
 */
public record SignatureDto(
        String evidence,
        Object facts,
        String title,
        Map<String, String> keys,
        String symbolic,
        List<String> frames,
        int rulesVersion,
        String corrupted) {}
