package dev.vigil.agent.mapping;

/** Looks up the {@link ImageLabel} of a VM by its UUID; never throws, answers {@link ImageLabel#NONE} instead. */
@FunctionalInterface
public interface ImageLabels {

    /** For agents and tests that know nothing about images. */
    ImageLabels NONE = vmUuid -> ImageLabel.NONE;

    ImageLabel of(String vmUuid);
}
