package dev.vigil.schemas.delivery;

/** Why an agent refuses a delivery document. */
public enum MetadataProblem {
    /** The bytes are not a decodable signed document of the expected kind. */
    MALFORMED,
    /** The document carries no signature. */
    UNSIGNED,
    /** It is signed for another role than the one expected. */
    WRONG_ROLE,
    /** None of its signatures is by a key the trusted root gives the role. */
    UNKNOWN_KEY,
    /** A signature by one of the role's keys does not verify: the bytes were altered or forged. */
    BAD_SIGNATURE,
    /** Fewer distinct keys of the role signed than its threshold. */
    THRESHOLD_NOT_MET,
    /** Its expiry has passed: a repository that stopped updating (a freeze) ends here. */
    EXPIRED,
    /** Its version is older than one already trusted. */
    ROLLED_BACK,
    /** It does not match the version, length or hash that the document naming it pins (mix and match). */
    MISMATCHED,
    /** It is for another host, product or release. */
    WRONG_TARGET,
    /** What was asked for is not listed in trusted metadata. */
    NOT_LISTED
}
