package dev.vigil.ingestion.persistence;

import dev.vigil.ingestion.domain.ArtifactCheck;
import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;

/** Artifact manifests and their verification state. */
@ApplicationScoped
public class ArtifactRepository implements PanacheRepositoryBase<ArtifactEntity, String> {

    /** The oldest manifests not yet checked. */
    public List<ArtifactEntity> unverified(int limit) {
        return find("status", Sort.by("receivedAt"), ArtifactCheck.UNVERIFIED)
                .page(Page.ofSize(limit))
                .list();
    }

    /** Records a check's outcome unless another replica already did. */
    public void record(String eventId, ArtifactCheck check, Instant at) {
        update(
                "status = ?1, statusDetail = ?2, verifiedAt = ?3 where eventId = ?4 and status = ?5",
                check.status(),
                check.detail(),
                at,
                eventId,
                ArtifactCheck.UNVERIFIED);
    }

    public List<ArtifactEntity> pageForVm(String vmUuid, int page, int size) {
        return find("vmUuid", Sort.by("occurredAt", Sort.Direction.Descending).and("eventId"), vmUuid)
                .page(Page.of(page, size))
                .list();
    }

    public long countForVm(String vmUuid) {
        return count("vmUuid", vmUuid);
    }
}
