package dev.vigil.schemas.delivery;

/** A delivery document refused, with the typed reason. */
public final class MetadataException extends Exception {

    private final MetadataProblem problem;

    public MetadataException(MetadataProblem problem, String message) {
        super(message);
        this.problem = problem;
    }

    public MetadataProblem problem() {
        return problem;
    }
}
