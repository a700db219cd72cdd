package dev.vigil.agent.capture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vigil.agent.delivery.DeliveryException;
import dev.vigil.agent.delivery.DispatchConnection;
import dev.vigil.agent.delivery.Enrolment;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evidence stored through links dispatch signs for this host (ADR 0007): the agent names an object by its hash and
 * size, dispatch answers with its key under this host's prefix and a link that writes that object alone (or, for a
 * large one, a link per part of a multipart upload that resumes from the parts the store holds). The agent holds no
 * object store credentials and can read nothing from the store. Until this host is enrolled its evidence waits.
 */
final class LinkStore implements EvidenceStore {

    /** This host's token, read when it is needed: a host enrolled while its agent runs starts storing at once. */
    interface HostToken {
        String get() throws IOException;

        /** The token of the enrolment kept under {@code stateDir}; until there is one, evidence waits. */
        static HostToken enrolment(Path stateDir) {
            return () -> {
                try {
                    return Enrolment.load(stateDir).hostToken();
                } catch (DeliveryException e) {
                    throw new IOException("evidence waits for this host's enrolment: " + e.getMessage(), e);
                }
            };
        }
    }

    private final DispatchConnection dispatch;
    private final HostToken token;

    /** @param dispatch dispatch without a host token: {@code token} gives it at every upload */
    LinkStore(DispatchConnection dispatch, HostToken token) {
        this.dispatch = dispatch;
        this.token = token;
    }

    @Override
    public Stored put(Path file, String key, String sha256, String contentType, Path uploadState) throws IOException {
        DispatchConnection api = dispatch.withHostToken(token.get());
        long size = Files.size(file);
        Map<String, Object> request = new HashMap<>(Map.of("sha256", sha256, "size", size));
        String resumeId = size > ResumableUpload.PART_BYTES ? ResumableUpload.resumeId(uploadState, key) : null;
        if (resumeId != null) {
            request.put("uploadId", resumeId);
        }
        JsonNode plan = call(api, "/api/v1/agent/uploads", request, "asking dispatch for an upload link");
        String bucket = plan.path("bucket").asText();
        if (!key.equals(plan.path("key").asText())) {
            throw new IOException("dispatch stores this host's evidence as "
                    + plan.path("key").asText() + ", not " + key
                    + ": the agent's TENANT and HOST_ID differ from those it enrolled with");
        }
        if (plan.path("stored").asBoolean()) {
            return new Stored(bucket, true, 0);
        }
        if (plan.hasNonNull("url")) {
            DispatchConnection.Answer put;
            try {
                put = dispatch.putLink(plan.path("url").asText(), HttpRequest.BodyPublishers.ofFile(file), contentType);
            } catch (FileNotFoundException e) {
                throw new IOException(file + " is gone", e);
            } catch (DeliveryException e) {
                throw new IOException(e.getMessage(), e);
            }
            if (put.status() != 200) {
                throw new IOException("the object store refused the upload link (HTTP " + put.status() + ")");
            }
            return new Stored(bucket, false, size);
        }
        try {
            return new Stored(
                    bucket, false, ResumableUpload.upload(new LinkUpload(api, sha256, plan), file, key, uploadState));
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("No such upload")) {
                // Aborted by the store since it was planned: the next attempt starts another.
                Files.deleteIfExists(uploadState);
            }
            throw e;
        }
    }

    @Override
    public String describe() {
        return "the object store, through dispatch's upload links";
    }

    private static JsonNode call(DispatchConnection api, String path, Object body, String what) throws IOException {
        try {
            DispatchConnection.Answer answer = api.postJson(path, body);
            if (answer.status() != 200) {
                throw new IOException(what + ": " + answer.problem());
            }
            return answer.json();
        } catch (DeliveryException e) {
            throw new IOException(what + ": " + e.getMessage(), e);
        }
    }

    /** A multipart upload as dispatch planned it: a link per part, and the parts the store holds. */
    private final class LinkUpload implements ResumableUpload.Upload {
        private final DispatchConnection api;
        private final String sha256;
        private final String id;
        private final Map<Integer, String> links = new HashMap<>();
        private final Map<Integer, ResumableUpload.StoredPart> stored = new LinkedHashMap<>();

        LinkUpload(DispatchConnection api, String sha256, JsonNode plan) throws IOException {
            this.api = api;
            this.sha256 = sha256;
            this.id = plan.path("uploadId").asText(null);
            if (id == null || !plan.path("parts").isArray()) {
                throw new IOException("dispatch's upload plan has neither a link nor parts");
            }
            for (JsonNode part : plan.path("parts")) {
                int number = part.path("number").asInt();
                links.put(number, part.path("url").asText());
                if (part.hasNonNull("etag")) {
                    stored.put(
                            number,
                            new ResumableUpload.StoredPart(
                                    number,
                                    part.path("size").asLong(),
                                    part.path("etag").asText()));
                }
            }
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public Map<Integer, ResumableUpload.StoredPart> stored() {
            return stored;
        }

        @Override
        public String send(int number, byte[] data, int length) throws IOException {
            String url = links.get(number);
            if (url == null) {
                throw new IOException("dispatch's upload plan has no link for part " + number);
            }
            DispatchConnection.Answer put;
            try {
                put = dispatch.putLink(
                        url, HttpRequest.BodyPublishers.ofByteArray(data, 0, length), "application/octet-stream");
            } catch (DeliveryException e) {
                throw new IOException("part " + number + ": " + e.getMessage(), e);
            }
            if (put.status() != 200 || put.etag() == null) {
                throw new IOException("the object store refused part " + number + " (HTTP " + put.status() + ")");
            }
            return put.etag();
        }

        @Override
        public void complete(List<ResumableUpload.StoredPart> parts) throws IOException {
            List<Map<String, Object>> sent = parts.stream()
                    .map(p -> Map.<String, Object>of("number", p.number(), "etag", p.etag()))
                    .toList();
            call(
                    api,
                    "/api/v1/agent/uploads/complete",
                    Map.of("sha256", sha256, "uploadId", id, "parts", sent),
                    "completing the upload");
        }
    }
}
