package dev.vigil.ingestion.service;

import dev.vigil.ingestion.domain.ArtifactCheck;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Checks that an object exists with the manifest's size and SHA-256, streaming it (bounded memory). */
@ApplicationScoped
public class ArtifactVerifier {

    private static final int BUFFER = 64 * 1024;

    private final MinioClient s3;

    ArtifactVerifier(MinioClient s3) {
        this.s3 = s3;
    }

    /**
     * @return VERIFIED or CORRUPT with the mismatch, MISSING when the object is absent (the caller decides whether
     *     the grace period is over), or UNVERIFIED when the store could not be read this time
     */
    public ArtifactCheck check(String bucket, String key, long expectedSize, String expectedSha256) {
        StatObjectResponse stat;
        try {
            stat = s3.statObject(
                    StatObjectArgs.builder().bucket(bucket).object(key).build());
        } catch (ErrorResponseException e) {
            String code = e.errorResponse().code();
            if ("NoSuchKey".equals(code) || "NoSuchBucket".equals(code) || "NoSuchObject".equals(code)) {
                return new ArtifactCheck(ArtifactCheck.MISSING, "no object " + key + " in bucket " + bucket);
            }
            return new ArtifactCheck(ArtifactCheck.UNVERIFIED, "object store said " + code);
        } catch (Exception e) {
            return new ArtifactCheck(ArtifactCheck.UNVERIFIED, "object store unreachable: " + e.getMessage());
        }
        if (stat.size() != expectedSize) {
            return new ArtifactCheck(
                    ArtifactCheck.CORRUPT, "size " + stat.size() + " bytes, the manifest says " + expectedSize);
        }
        String actual;
        try (InputStream in =
                s3.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[BUFFER];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
            actual = HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        } catch (IOException e) {
            return new ArtifactCheck(ArtifactCheck.UNVERIFIED, "reading the object failed: " + e.getMessage());
        } catch (Exception e) {
            return new ArtifactCheck(ArtifactCheck.UNVERIFIED, "object store error: " + e.getMessage());
        }
        return actual.equalsIgnoreCase(expectedSha256)
                ? new ArtifactCheck(ArtifactCheck.VERIFIED, null)
                : new ArtifactCheck(
                        ArtifactCheck.CORRUPT, "sha256 " + actual + ", the manifest says " + expectedSha256);
    }
}
