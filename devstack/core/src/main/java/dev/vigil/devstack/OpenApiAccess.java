package dev.vigil.devstack;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What a service's OpenAPI document says about access, for its tests to check. */
public final class OpenApiAccess {

    private OpenApiAccess() {}

    /**
     * Fails, naming each one, when a secured operation of a document's {@code paths} (as parsed JSON) does not
     * document its 401 and 403 problems, or when the document has no more than {@code atLeast} secured operations
     * (a document that lost its security requirements would otherwise pass).
     */
    public static void requireDocumentedRefusals(Map<String, Object> paths, int atLeast) {
        Map<String, List<String>> secured = refusals(paths);
        List<String> problems = new ArrayList<>();
        if (secured.size() <= atLeast) {
            problems.add("only " + secured.size() + " secured operations, expected more than " + atLeast);
        }
        secured.forEach((operation, missing) -> {
            if (!missing.isEmpty()) {
                problems.add(operation + " does not document " + String.join(" and ", missing));
            }
        });
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("\n", problems));
        }
    }

    /**
     * The secured operations of a document's {@code paths} (as parsed JSON) and, for each, the refusals it does not
     * document: a 401 and a 403, each served as {@code application/problem+json}.
     *
     * @return {@code "GET /path"} of each secured operation, mapped to what is missing (empty when nothing is)
     */
    @SuppressWarnings("unchecked")
    public static Map<String, List<String>> refusals(Map<String, Object> paths) {
        Map<String, List<String>> secured = new java.util.TreeMap<>();
        paths.forEach((path, item) -> ((Map<String, Object>) item).forEach((method, value) -> {
            if (!(value instanceof Map<?, ?> operation)) {
                return;
            }
            Object security = operation.get("security");
            if (!(security instanceof List<?> requirements) || requirements.isEmpty()) {
                return;
            }
            List<String> missing = new ArrayList<>();
            Map<String, Object> responses = (Map<String, Object>) operation.get("responses");
            for (String status : List.of("401", "403")) {
                Object response = responses == null ? null : responses.get(status);
                Object content = response instanceof Map<?, ?> r ? r.get("content") : null;
                if (!(content instanceof Map<?, ?> types) || !types.containsKey("application/problem+json")) {
                    missing.add(status);
                }
            }
            secured.put(method.toUpperCase(java.util.Locale.ROOT) + " " + path, missing);
        }));
        return secured;
    }
}
