package dev.vigil.dispatch.domain;

/** A domain template, or the values given for it, that cannot make a valid libvirt domain; the message says why. */
public final class TemplateException extends Exception {

    public TemplateException(String message) {
        super(message);
    }
}
