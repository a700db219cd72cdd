package dev.vigil.dispatch.api;

import dev.vigil.dispatch.domain.Product;
import dev.vigil.dispatch.service.ReleaseService;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** The vendor's products. */
@Path("/api/v1/products")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "jwt")
public class ProductResource {

    /** A product as the API shows it, with the release each channel offers (in the detail only). */
    public record ProductDto(
            String id,
            String name,
            String description,
            String createdBy,
            Instant createdAt,
            Map<String, String> channels) {

        static ProductDto of(Product product, Map<String, String> channels) {
            return new ProductDto(
                    product.id(),
                    product.name(),
                    product.description(),
                    product.createdBy(),
                    product.createdAt(),
                    channels);
        }
    }

    /** A new product. */
    public record NewProduct(String id, String name, String description) {}

    private final ReleaseService releases;
    private final SecurityIdentity identity;

    ProductResource(ReleaseService releases, SecurityIdentity identity) {
        this.releases = releases;
        this.identity = identity;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    public Response create(NewProduct body) {
        if (body == null) {
            throw dev.vigil.dispatch.service.RefusedException.badRequest("Bad product", "send {id, name, description}");
        }
        Product product = releases.createProduct(
                body.id(),
                body.name(),
                body.description(),
                identity.getPrincipal().getName());
        return Response.created(URI.create("/api/v1/products/" + product.id()))
                .entity(ProductDto.of(product, Map.of()))
                .build();
    }

    @GET
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public List<ProductDto> list() {
        return releases.products().stream().map(p -> ProductDto.of(p, null)).toList();
    }

    @GET
    @Path("{product}")
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public ProductDto get(@PathParam("product") String product) {
        return ProductDto.of(releases.product(product), releases.channels(product));
    }
}
