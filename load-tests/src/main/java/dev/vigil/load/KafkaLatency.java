package dev.vigil.load;

import dev.vigil.devstack.Endpoints;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.tools.EndToEndLatency;

/**
 * Kafka's own end-to-end latency on the devstack's broker, the same-run baseline of a latency figure: what a record
 * takes from send to a consumer when nothing of Vigil's is in the way, on the machine as loaded as it is now.
 *
 * @param averageMillis mean send-to-consume time
 */
record KafkaLatency(int messages, int bytes, double averageMillis, int p50, int p99, int p999) {

    private static final String TOPIC = "bench.end-to-end-latency";

    /**
     * Runs Kafka's {@code EndToEndLatency} on a scratch topic of the devstack's broker: {@code messages} records of
     * {@code bytes}, each sent with acks=all and awaited, then read back by a consumer polling without wait.
     */
    static KafkaLatency measure(Endpoints endpoints, int messages, int bytes) throws Exception {
        Properties admin = new Properties();
        admin.putAll(endpoints.kafkaClient());
        try (Admin client = Admin.create(admin)) {
            client.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1)))
                    .all()
                    .get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        // One acknowledged record first: the tool's first sends would otherwise also time the new partition's leader.
        Properties probe = new Properties();
        probe.putAll(endpoints.kafkaClient());
        probe.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(probe, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(TOPIC, new byte[0])).get(30, TimeUnit.SECONDS);
        }
        // main() ends in Exit.exit, which the in-process broker turns into an exception; mainNoExit returns the code.
        Method run = EndToEndLatency.class.getDeclaredMethod("mainNoExit", String[].class);
        run.setAccessible(true);
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        Path clientProperties = Files.createTempFile("vigil-latency-client-", ".properties");
        StringBuilder client = new StringBuilder();
        endpoints
                .kafkaClient()
                .forEach((key, value) ->
                        client.append(key).append('=').append(value).append('\n'));
        Files.writeString(clientProperties, client);
        int code;
        try {
            code = (int) run.invoke(null, (Object) new String[] {
                endpoints.kafkaBootstrapServers(),
                TOPIC,
                String.valueOf(messages),
                "all",
                String.valueOf(bytes),
                clientProperties.toString()
            });
        } finally {
            System.setOut(original);
            Files.deleteIfExists(clientProperties);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        Matcher average = Pattern.compile("Avg latency: ([0-9.]+) ms").matcher(output);
        Matcher percentiles = Pattern.compile("Percentiles: 50th = (\\d+), 99th = (\\d+), 99.9th = (\\d+)")
                .matcher(output);
        if (code != 0 || !average.find() || !percentiles.find()) {
            throw new IllegalStateException("EndToEndLatency failed (" + code + "):\n" + output);
        }
        return new KafkaLatency(
                messages,
                bytes,
                Double.parseDouble(average.group(1)),
                Integer.parseInt(percentiles.group(1)),
                Integer.parseInt(percentiles.group(2)),
                Integer.parseInt(percentiles.group(3)));
    }
}
