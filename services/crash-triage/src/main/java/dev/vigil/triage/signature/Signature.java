package dev.vigil.triage.signature;

import java.util.List;

/**
 * The layered signature of one crash.
 *
 * @param title a human title, e.g. {@code general protection fault in __alloc_skb}
 * @param instantKey what the hypervisor alone can tell: OS family, crash class or bugcheck, the faulting symbol or
 *     module, and the image's release; hashed
 * @param symbolicKey the crash class with numbers masked and the normalized top frames; hashed
 * @param symbolicText what the symbolic key hashes, readable (e.g. {@code gpf|__alloc_skb|alloc_skb_with_frags})
 * @param frames the normalized frames in the key
 * @param rulesVersion the {@link SignatureRules} version that made the keys
 * @param corrupted why the report is corrupted (interleaved with other output, or cut before what its title
 *     needs), or null: a corrupted report is titled by its kind ({@code WARNING in corrupted}) and keyed with the
 *     others of its kind, not by a function it does not reliably name
 */
public record Signature(
        String title,
        String instantKey,
        String symbolicKey,
        String symbolicText,
        List<String> frames,
        int rulesVersion,
        String corrupted) {

    public Signature {
        frames = List.copyOf(frames);
    }

    /** A signature of a report that is not corrupted. */
    public Signature(
            String title,
            String instantKey,
            String symbolicKey,
            String symbolicText,
            List<String> frames,
            int rulesVersion) {
        this(title, instantKey, symbolicKey, symbolicText, frames, rulesVersion, null);
    }
}
