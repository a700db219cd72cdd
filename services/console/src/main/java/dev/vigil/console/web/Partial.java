package dev.vigil.console.web;

import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.WebApplicationException;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * A part of a page that comes from a service other than the page's own: when that service cannot answer, the page is
 * still shown, with the part saying why it is missing instead of the whole page becoming an error.
 *
 * @param value what the service answered, or null
 * @param unavailable why there is no value, for the reader, or null
 */
public record Partial<T>(T value, String unavailable) {

    private static final Logger LOG = Logger.getLogger(Partial.class);

    /** Calls {@code service} (named {@code name} for the reader). */
    public static <T> Partial<T> of(String name, Supplier<T> service) {
        try {
            return new Partial<>(service.get(), null);
        } catch (WebApplicationException e) {
            int status = e.getResponse().getStatus();
            LOG.warnf("%s answered %d for a part of a page", name, status);
            return new Partial<>(
                    null,
                    switch (status) {
                        case 403 -> name + " does not show this to you.";
                        case 404 -> name + " has nothing on this.";
                        default -> name + " answered " + status + "; this part is left out.";
                    });
        } catch (ProcessingException e) {
            LOG.warnf("%s is unreachable for a part of a page: %s", name, e.getMessage());
            return new Partial<>(null, name + " is unreachable just now; this part is left out.");
        }
    }
}
