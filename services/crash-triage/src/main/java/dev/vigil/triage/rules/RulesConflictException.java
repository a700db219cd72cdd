package dev.vigil.triage.rules;

/**
 * The rules in force say a version that stored reports were already keyed under with other content: filing under
 * them would put reports of existing buckets into new ones, so triage refuses them until the version is bumped.
 */
public final class RulesConflictException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public RulesConflictException(int version, String appliedSha256, String currentSha256) {
        super("signature rules version " + version + " was applied with content sha256 " + appliedSha256
                + ", but the rules in force have " + currentSha256
                + ": an edited rules file needs a new version number");
    }
}
