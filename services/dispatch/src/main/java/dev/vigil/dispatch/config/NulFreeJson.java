package dev.vigil.dispatch.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;
import java.io.IOException;

/**
 * Refuses a NUL character in any string of a JSON body as unreadable JSON (a 400 problem): PostgreSQL text cannot hold
 * one, and a request must be refused for what it is, not fail when something tries to store it.
 */
@Singleton
public class NulFreeJson implements ObjectMapperCustomizer {

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.registerModule(new SimpleModule("vigil-nul-free-strings").addDeserializer(String.class, new NulFree()));
    }

    private static final class NulFree extends StringDeserializer {
        @Override
        public String deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            String value = super.deserialize(parser, context);
            if (value != null && value.indexOf('\u0000') >= 0) {
                return (String) context.handleWeirdStringValue(
                        String.class, value, "a NUL character (\\u0000) is not allowed in text");
            }
            return value;
        }
    }
}
