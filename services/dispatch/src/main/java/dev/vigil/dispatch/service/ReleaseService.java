package dev.vigil.dispatch.service;

import dev.vigil.dispatch.domain.DomainTemplate;
import dev.vigil.dispatch.domain.Names;
import dev.vigil.dispatch.domain.Product;
import dev.vigil.dispatch.domain.Release;
import dev.vigil.dispatch.domain.ReleaseState;
import dev.vigil.dispatch.domain.TemplateException;
import dev.vigil.dispatch.domain.TemplateParameter;
import dev.vigil.dispatch.persistence.ChunkRepository;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.ProductRepository;
import dev.vigil.dispatch.persistence.ReleaseRepository;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.delivery.ImageChunk;
import dev.vigil.schemas.delivery.ImageChunker;
import dev.vigil.schemas.delivery.ImageFormat;
import dev.vigil.schemas.delivery.ImageManifest;
import dev.vigil.schemas.delivery.ImageManifests;
import dev.vigil.schemas.delivery.MetadataSigning;
import dev.vigil.schemas.delivery.Sha256;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Products and releases: a release is created with its domain template, its image declared as a manifest of chunks,
 * the chunks uploaded (each checked against its hash; those the store holds are never sent again), the whole image
 * verified, and the release published into the signed repository. The first release published to a channel becomes
 * what the channel offers; later ones get there through a rollout.
 */
@ApplicationScoped
public class ReleaseService {

    private static final Logger LOG = Logger.getLogger(ReleaseService.class);
    static final int MAX_NOTES = 20_000;

    private final Database db;
    private final ChunkStore chunks;
    private final ImageVerifier verifier;
    private final RepositoryService repository;
    private final MeterRegistry metrics;
    private final Clock clock = Clock.systemUTC();

    ReleaseService(
            Database db,
            ChunkStore chunks,
            ImageVerifier verifier,
            RepositoryService repository,
            MeterRegistry metrics) {
        this.db = db;
        this.chunks = chunks;
        this.verifier = verifier;
        this.repository = repository;
        this.metrics = metrics;
    }

    public Product createProduct(String id, String name, String description, String by) {
        String problem = Names.productProblem(id);
        if (problem != null) {
            throw RefusedException.badRequest("Bad product id", problem);
        }
        if (name == null || name.isBlank() || name.length() > 200) {
            throw RefusedException.badRequest("Bad product", "a product needs a name of 1-200 characters");
        }
        Product product = new Product(id, name.strip(), description == null ? "" : description, by, clock.instant());
        boolean created = db.transaction(c -> ProductRepository.insert(c, product));
        if (!created) {
            throw RefusedException.conflict("Product exists", "a product with id " + id + " exists");
        }
        LOG.infof("product %s created by %s", id, by);
        return product;
    }

    public List<Product> products() {
        return db.read(ProductRepository::all);
    }

    public Product product(String id) {
        Product product = db.read(c -> ProductRepository.find(c, id));
        if (product == null) {
            throw RefusedException.notFound("Unknown product", "no product " + id);
        }
        return product;
    }

    /** The release each channel of a product offers. */
    public java.util.Map<String, String> channels(String product) {
        return db.read(c -> ReleaseRepository.channelHeads(c, product));
    }

    public Release createRelease(
            String product,
            String version,
            String channel,
            String template,
            List<TemplateParameter> parameters,
            String notes,
            String by) {
        product(product);
        String problem = Names.releaseProblem(version);
        if (problem == null) {
            problem = Names.channelProblem(channel);
        }
        if (problem != null) {
            throw RefusedException.badRequest("Bad release", problem);
        }
        if (notes != null && notes.length() > MAX_NOTES) {
            throw RefusedException.badRequest("Bad release", "release notes are at most " + MAX_NOTES + " characters");
        }
        List<TemplateParameter> declared = parameters == null ? List.of() : List.copyOf(parameters);
        try {
            DomainTemplate.check(template, declared);
        } catch (TemplateException e) {
            throw RefusedException.unprocessable("Bad domain template", e.getMessage());
        }
        Release release = new Release(
                product,
                version,
                channel,
                ReleaseState.DRAFT,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                0,
                null,
                template,
                MetadataSigning.sha256(template.getBytes(StandardCharsets.UTF_8)),
                declared,
                notes == null ? "" : notes,
                by,
                clock.instant(),
                null,
                null,
                null);
        boolean created = db.transaction(c -> ReleaseRepository.insert(c, release));
        if (!created) {
            throw RefusedException.conflict("Release exists", product + " already has a release " + version);
        }
        LOG.infof("release %s %s (%s) created by %s", product, version, channel, by);
        return release;
    }

    public Release release(String product, String version) {
        Release release = db.read(c -> ReleaseRepository.find(c, product, version, false));
        if (release == null) {
            product(product);
            throw RefusedException.notFound("Unknown release", product + " has no release " + version);
        }
        return release;
    }

    public List<Release> releases(String product) {
        product(product);
        return db.read(c -> ReleaseRepository.ofProduct(c, product));
    }

    /**
     * Declares (or declares again) a release's image. Answers with the chunks the store lacks: after an interruption,
     * declaring the same image again says what is left to send.
     */
    public UploadStatus declareImage(String product, String version, ImageDeclaration declaration) {
        ImageManifest manifest = manifest(product, version, declaration);
        byte[] bytes = EventCodec.of(ImageManifest.class).encode(manifest);
        String manifestSha256 = MetadataSigning.sha256(bytes);
        List<String> hashes = declaration.chunks().stream()
                .map(ImageDeclaration.Chunk::sha256)
                .toList();
        return db.transaction(c -> {
            Release release = ReleaseRepository.find(c, product, version, true);
            if (release == null) {
                release(product, version);
            }
            if (release.state() == ReleaseState.VERIFIED || release.state() == ReleaseState.PUBLISHED) {
                if (!manifestSha256.equals(release.manifestSha256())) {
                    throw RefusedException.conflict(
                            "Image is final",
                            product + " " + version + " has a "
                                    + release.state().name().toLowerCase(java.util.Locale.ROOT)
                                    + " image; a different image is a new release");
                }
                return new UploadStatus(release.state(), hashes.size(), List.of(), 0);
            }
            if (release.state() == ReleaseState.VERIFYING) {
                throw RefusedException.conflict(
                        "Image is being verified", product + " " + version + "'s image is being verified; wait for it");
            }
            if (!manifestSha256.equals(release.manifestSha256()) || release.state() == ReleaseState.REJECTED) {
                ReleaseRepository.declareImage(
                        c,
                        product,
                        version,
                        manifest.getFormat().name(),
                        manifest.getSize(),
                        manifest.getSha256(),
                        bytes,
                        manifestSha256,
                        hashes.size());
            }
            return status(c, ReleaseState.UPLOADING, declaration);
        });
    }

    /** Stores an uploaded chunk after checking its bytes against its name; false when it was stored already. */
    public boolean putChunk(String sha256, byte[] bytes) {
        if (!Names.isSha256(sha256)) {
            throw RefusedException.badRequest("Bad chunk name", "a chunk is named by its SHA-256 in lowercase hex");
        }
        if (bytes.length == 0 || bytes.length > ImageChunker.MAX_SIZE) {
            throw new RefusedException(
                    bytes.length == 0 ? RefusedException.Why.INVALID : RefusedException.Why.TOO_LARGE,
                    "Bad chunk size",
                    "a chunk is 1 to " + ImageChunker.MAX_SIZE + " bytes, this one is " + bytes.length);
        }
        String actual = HexFormat.of().formatHex(sha256().digest(bytes));
        if (!actual.equals(sha256)) {
            metrics.counter("vigil.dispatch.chunks.refused").increment();
            throw RefusedException.unprocessable(
                    "Chunk does not match its hash",
                    "the body's SHA-256 is " + actual + ", not " + sha256
                            + ": it was damaged on the way; send it again");
        }
        if (db.read(c -> ChunkRepository.exists(c, sha256))) {
            return false;
        }
        try {
            chunks.put(sha256, bytes);
        } catch (IOException e) {
            throw new RefusedException(RefusedException.Why.UNAVAILABLE, "Object store unavailable", e.getMessage());
        }
        db.transaction(c -> {
            ChunkRepository.stored(c, sha256, bytes.length);
            return null;
        });
        metrics.counter("vigil.dispatch.chunks.stored").increment();
        metrics.counter("vigil.dispatch.chunks.stored.bytes").increment(bytes.length);
        return true;
    }

    /** Starts verifying a fully uploaded image; its outcome shows on the release. */
    public Release verify(String product, String version) {
        Release release = db.transaction(c -> {
            Release current = ReleaseRepository.find(c, product, version, true);
            if (current == null) {
                release(product, version);
            }
            switch (current.state()) {
                case DRAFT ->
                    throw RefusedException.conflict(
                            "No image", product + " " + version + " has no image declared: PUT its manifest first");
                case VERIFYING, VERIFIED, PUBLISHED -> {
                    return current;
                }
                case REJECTED ->
                    throw RefusedException.conflict(
                            "Image rejected",
                            "the image was rejected (" + current.rejection() + "): declare a corrected image first");
                default -> {}
            }
            ImageManifest manifest = storedManifest(ReleaseRepository.manifest(c, product, version));
            Set<String> missing = ChunkRepository.missing(c, hexes(manifest));
            if (!missing.isEmpty()) {
                throw RefusedException.conflict(
                        "Chunks missing",
                        missing.size() + " of the image's chunks are not uploaded yet (first: "
                                + missing.iterator().next() + ")");
            }
            ReleaseRepository.setState(c, product, version, ReleaseState.VERIFYING);
            return ReleaseRepository.find(c, product, version, false);
        });
        if (release.state() == ReleaseState.VERIFYING) {
            verifier.start(product, version);
        }
        return release;
    }

    /** Publishes a verified release: signs it into the product's targets, with a new snapshot and timestamp. */
    public Release publish(String product, String version, String by) {
        Release published = db.transaction(c -> {
            Release release = ReleaseRepository.find(c, product, version, true);
            if (release == null) {
                release(product, version);
            }
            if (release.state() == ReleaseState.PUBLISHED) {
                return release;
            }
            if (release.state() != ReleaseState.VERIFIED) {
                throw RefusedException.conflict(
                        "Release not verified",
                        product + " " + version + " is " + release.state() + ": only a verified image is published");
            }
            ReleaseRepository.published(c, product, version, by, clock.instant());
            if (ReleaseRepository.channelHead(c, product, release.channel()) == null) {
                ReleaseRepository.setChannelHead(c, product, release.channel(), version);
            }
            repository.publish(c, List.of(product));
            return ReleaseRepository.find(c, product, version, false);
        });
        LOG.infof("release %s %s published by %s", product, version, by);
        return published;
    }

    private UploadStatus status(java.sql.Connection c, ReleaseState state, ImageDeclaration declaration)
            throws java.sql.SQLException {
        List<String> hashes = declaration.chunks().stream()
                .map(ImageDeclaration.Chunk::sha256)
                .toList();
        Set<String> missing = ChunkRepository.missing(c, hashes);
        long bytes = 0;
        for (ImageDeclaration.Chunk chunk : declaration.chunks()) {
            if (missing.contains(chunk.sha256())) {
                bytes += chunk.length();
            }
        }
        // A chunk that repeats in the image is sent once; count its bytes once.
        long repeated = 0;
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (ImageDeclaration.Chunk chunk : declaration.chunks()) {
            if (missing.contains(chunk.sha256()) && !seen.add(chunk.sha256())) {
                repeated += chunk.length();
            }
        }
        return new UploadStatus(state, hashes.size(), List.copyOf(missing), bytes - repeated);
    }

    private static ImageManifest manifest(String product, String version, ImageDeclaration declaration) {
        if (declaration == null || declaration.chunks() == null || declaration.chunking() == null) {
            throw RefusedException.badRequest(
                    "Bad image declaration", "an image declaration needs format, size, sha256, chunking and chunks");
        }
        ImageFormat format;
        try {
            format = ImageFormat.valueOf(String.valueOf(declaration.format()).toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            format = ImageFormat.UNKNOWN;
        }
        if (format == ImageFormat.UNKNOWN) {
            throw RefusedException.badRequest(
                    "Bad image format", "format is qcow2 or raw, got " + declaration.format());
        }
        if (!ImageChunker.ALGORITHM.equals(declaration.chunking().algorithm())) {
            throw RefusedException.unprocessable(
                    "Unknown chunking",
                    "images are cut with " + ImageChunker.ALGORITHM + " (the vigil command line does it), not "
                            + declaration.chunking().algorithm());
        }
        List<ImageChunk> chunks = new ArrayList<>();
        for (ImageDeclaration.Chunk chunk : declaration.chunks()) {
            if (chunk == null || !Names.isSha256(chunk.sha256())) {
                throw RefusedException.badRequest("Bad image declaration", "every chunk's sha256 is 64 lowercase hex");
            }
            chunks.add(ImageChunk.newBuilder()
                    .setOffset(chunk.offset())
                    .setLength(chunk.length())
                    .setSha256(new Sha256(HexFormat.of().parseHex(chunk.sha256())))
                    .build());
        }
        ImageManifest manifest = ImageManifest.newBuilder()
                .setProduct(product)
                .setRelease(version)
                .setFormat(format)
                .setSize(declaration.size())
                .setSha256(String.valueOf(declaration.sha256()))
                .setVirtualSize(0)
                .setChunking(ImageChunker.chunking())
                .setChunks(chunks)
                .build();
        String problem = ImageManifests.shapeProblem(manifest);
        if (problem != null) {
            throw RefusedException.unprocessable("Bad image declaration", problem);
        }
        return manifest;
    }

    /** A manifest dispatch stored itself; one that does not read back means the database was altered. */
    static ImageManifest storedManifest(byte[] bytes) {
        try {
            return ImageManifests.decode(bytes);
        } catch (dev.vigil.schemas.delivery.MetadataException e) {
            throw new IllegalStateException("a stored image manifest does not read back: " + e.getMessage(), e);
        }
    }

    static List<String> hexes(ImageManifest manifest) {
        return manifest.getChunks().stream()
                .map(chunk -> ImageManifests.hex(chunk.getSha256()))
                .toList();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    Instant now() {
        return clock.instant();
    }
}
