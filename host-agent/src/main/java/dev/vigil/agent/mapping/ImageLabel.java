package dev.vigil.agent.mapping;

/**
 * What a VM's master image declares about the vendor build inside it, as the domain's Vigil metadata says.
 *
 * @param product the vendor product, or null when the domain does not declare one
 * @param release the product's release, or null when the domain does not declare one
 */
public record ImageLabel(String product, String release) {

    /** A domain that declares nothing. */
    public static final ImageLabel NONE = new ImageLabel(null, null);
}
