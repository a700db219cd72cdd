package dev.vigil.ingestion.service;

import dev.vigil.ingestion.api.IncidentDto;
import dev.vigil.ingestion.mapping.VmDtoMapper;
import dev.vigil.ingestion.persistence.ArtifactEntity;
import dev.vigil.ingestion.persistence.IncidentEntity;
import dev.vigil.ingestion.persistence.IncidentRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.util.List;
import java.util.Optional;

/** Reads incidents for the API. */
@ApplicationScoped
public class IncidentQueries {

    private final IncidentRepository incidents;
    private final CrashReportAssembler assembler;
    private final VmDtoMapper mapper;

    IncidentQueries(IncidentRepository incidents, CrashReportAssembler assembler, VmDtoMapper mapper) {
        this.incidents = incidents;
        this.assembler = assembler;
        this.mapper = mapper;
    }

    /** By the incident's id or the id of any trigger event (or artifact incident id) that belongs to it. */
    @Transactional
    public Optional<IncidentDto> find(String id) {
        return incidents.incidentOf(id).map(incidents::find).map(this::toDto);
    }

    /** How many incidents the filter selects. */
    @Transactional
    public long count(IncidentRepository.Filter filter) {
        return incidents.count(filter);
    }

    /** One page of them, the most recently opened first, each with its artifacts. */
    @Transactional
    public List<IncidentDto> page(IncidentRepository.Filter filter, int page, int size) {
        return incidents.page(filter, page, size).stream().map(this::toDto).toList();
    }

    private IncidentDto toDto(IncidentEntity incident) {
        List<ArtifactEntity> artifacts = incidents.artifacts(incident.incidentId);
        return mapper.toDto(
                incident,
                assembler.waitingFor(incident, artifacts),
                artifacts.stream().map(mapper::toDto).toList());
    }
}
