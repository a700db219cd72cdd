package dev.vigil.ingestion.persistence;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** Reads users' feedback. */
@ApplicationScoped
public class FeedbackRepository implements PanacheRepositoryBase<FeedbackEntity, String> {

    public List<FeedbackEntity> pageForVm(String vmUuid, int page, int size) {
        return find("vmUuid", Sort.by("occurredAt", Sort.Direction.Descending).and("eventId"), vmUuid)
                .page(Page.of(page, size))
                .list();
    }

    public long countForVm(String vmUuid) {
        return count("vmUuid", vmUuid);
    }
}
