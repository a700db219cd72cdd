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
 */
public record Signature(
        String title,
        String instantKey,
        String symbolicKey,
        String symbolicText,
        List<String> frames,
        int rulesVersion) {

    public Signature {
        frames = List.copyOf(frames);
    }
}
