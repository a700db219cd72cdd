package dev.vigil.dispatch.messaging;

import dev.vigil.dispatch.service.CollectionService;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.crash.TriageKind;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Crash triage's outcomes: collection requests become commands; other outcomes are not dispatch's. A record that
 * does not decode goes to the dead-letter topic with its reason.
 */
@ApplicationScoped
public class CrashTriagedConsumer {

    static final String GROUP = "vigil-dispatch.vigil.crash.triaged.v1";
    private static final Logger LOG = Logger.getLogger(CrashTriagedConsumer.class);

    private final CollectionService collection;
    private final DeadLetterPublisher deadLetter;
    private final MeterRegistry metrics;

    CrashTriagedConsumer(CollectionService collection, DeadLetterPublisher deadLetter, MeterRegistry metrics) {
        this.collection = collection;
        this.deadLetter = deadLetter;
        this.metrics = metrics;
    }

    @Incoming("crash-triaged")
    @Blocking
    public void consume(ConsumerRecord<byte[], byte[]> record) {
        CrashTriaged outcome;
        try {
            outcome = EventCodec.of(CrashTriaged.class).decode(record.value());
        } catch (EventDecodingException e) {
            refuse(record, e.reason(), e.getMessage());
            return;
        } catch (RuntimeException e) {
            refuse(record, DeadLetterReason.MALFORMED, e.toString());
            return;
        }
        if (outcome.getKind() != TriageKind.COLLECTION_POLICY) {
            return;
        }
        if (outcome.getCollectionPolicy() == null) {
            refuse(record, DeadLetterReason.MISSING_FIELD, "a COLLECTION_POLICY outcome without collectionPolicy");
            return;
        }
        collection.apply(outcome.getBucketId(), outcome.getCollectionPolicy());
    }

    private void refuse(ConsumerRecord<byte[], byte[]> record, DeadLetterReason reason, String detail) {
        metrics.counter("vigil.dispatch.triaged.refused", "reason", reason.name())
                .increment();
        LOG.warnf(
                "triage outcome at %s-%d@%d refused (%s): %s",
                record.topic(), record.partition(), record.offset(), reason, detail);
        deadLetter.send(record, GROUP, reason, detail);
    }
}
