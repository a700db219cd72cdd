package dev.vigil.schemas;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/** Builds reader schemas that keep only some fields of a contract (see {@link EventCodec#projection(List)}). */
final class Projections {

    private Projections() {}

    static Schema keep(Schema record, List<String> paths) {
        if (paths.isEmpty()) {
            throw new IllegalArgumentException("a projection keeps at least one field");
        }
        Map<String, List<String>> byField = new LinkedHashMap<>();
        for (String path : paths) {
            int dot = path.indexOf('.');
            String head = dot < 0 ? path : path.substring(0, dot);
            if (record.getField(head) == null) {
                throw new IllegalArgumentException(
                        record.getFullName() + " has no field '" + head + "' (in '" + path + "')");
            }
            List<String> rest = byField.computeIfAbsent(head, h -> new ArrayList<>());
            // An empty list means "keep the field whole"; it wins over any deeper path to the same field.
            if (dot < 0) {
                rest.clear();
                rest.add(null);
            } else if (!rest.contains(null)) {
                rest.add(path.substring(dot + 1));
            }
        }
        List<Schema.Field> fields = new ArrayList<>();
        // In writer order: resolution does not need it, but a projection then reads like its contract.
        for (Schema.Field field : record.getFields()) {
            List<String> rest = byField.get(field.name());
            if (rest == null) {
                continue;
            }
            Schema schema = rest.contains(null) ? field.schema() : narrow(field.schema(), rest, field.name());
            fields.add(new Schema.Field(field, schema));
        }
        Schema projected = Schema.createRecord(record.getName(), record.getDoc(), record.getNamespace(), false);
        projected.setFields(fields);
        return projected;
    }

    /** The same type with its records narrowed to {@code paths}: through arrays, maps and nullable unions. */
    private static Schema narrow(Schema schema, List<String> paths, String where) {
        return switch (schema.getType()) {
            case RECORD -> keep(schema, paths);
            case ARRAY -> Schema.createArray(narrow(schema.getElementType(), paths, where));
            case MAP -> Schema.createMap(narrow(schema.getValueType(), paths, where));
            case UNION -> {
                List<Schema> branches = new ArrayList<>();
                for (Schema branch : schema.getTypes()) {
                    branches.add(branch.getType() == Schema.Type.NULL ? branch : narrow(branch, paths, where));
                }
                yield Schema.createUnion(branches);
            }
            default ->
                throw new IllegalArgumentException(
                        "field '" + where + "' is a " + schema.getType() + ", which has no fields to keep: " + paths);
        };
    }
}
