package dev.vigil.dispatch.domain;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A value a user may set in a release's domain template ({@code {{param.<name>}}}): an integer in a range, text of a
 * bounded length, or one of a list of choices.
 */
public record TemplateParameter(
        String name,
        Kind kind,
        String defaultValue,
        Long min,
        Long max,
        Integer maxLength,
        List<String> choices,
        String description) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,39}");
    /** Text a guest reads at first boot (a cloud-init document, a key) can be long, but not unbounded. */
    static final int TEXT_LIMIT = 65_536;

    /** What values a parameter takes. */
    public enum Kind {
        INTEGER,
        TEXT,
        CHOICE
    }

    public TemplateParameter {
        choices = choices == null ? List.of() : List.copyOf(choices);
        description = description == null ? "" : description;
    }

    /** What is wrong with this definition, or null. */
    public String definitionProblem() {
        if (name == null || !NAME.matcher(name).matches()) {
            return "parameter name '" + name + "' must be a letter then up to 39 letters, digits or _";
        }
        if (kind == null) {
            return "parameter " + name + " needs a kind: INTEGER, TEXT or CHOICE";
        }
        if (kind == Kind.INTEGER && (min == null || max == null || min > max)) {
            return "INTEGER parameter " + name + " needs min <= max";
        }
        if (kind == Kind.TEXT && (maxLength == null || maxLength < 0 || maxLength > TEXT_LIMIT)) {
            return "TEXT parameter " + name + " needs a maxLength of 0-" + TEXT_LIMIT;
        }
        if (kind == Kind.CHOICE && choices.isEmpty()) {
            return "CHOICE parameter " + name + " needs choices";
        }
        if (defaultValue == null) {
            return "parameter " + name + " needs a defaultValue";
        }
        String problem = valueProblem(defaultValue);
        return problem == null ? null : "the default of " + problem;
    }

    /** What is wrong with {@code value} for this parameter, or null. */
    public String valueProblem(String value) {
        return switch (kind) {
            case INTEGER -> {
                long number;
                try {
                    number = Long.parseLong(value.strip());
                } catch (NumberFormatException e) {
                    yield name + " must be a whole number, got '" + abbreviate(value) + "'";
                }
                yield number < min || number > max ? name + " must be " + min + "-" + max + ", got " + number : null;
            }
            case TEXT ->
                value.length() > maxLength
                        ? name + " must be at most " + maxLength + " characters, got " + value.length()
                        : (hasControl(value) ? name + " must not contain control characters other than newline" : null);
            case CHOICE ->
                choices.contains(value)
                        ? null
                        : name + " must be one of " + choices + ", got '" + abbreviate(value) + "'";
        };
    }

    private static boolean hasControl(String value) {
        return value.chars().anyMatch(ch -> ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t');
    }

    private static String abbreviate(String value) {
        return value.length() <= 60 ? value : value.substring(0, 60) + "...";
    }
}
