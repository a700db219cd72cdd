package dev.vigil.ingestion.service;

import dev.vigil.ingestion.api.IncidentDto;
import dev.vigil.ingestion.mapping.VmDtoMapper;
import dev.vigil.ingestion.persistence.IncidentRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.util.Optional;

/** Reads incidents for the API. */
@ApplicationScoped
public class IncidentQueries {

    private final IncidentRepository incidents;
    private final VmDtoMapper mapper;

    IncidentQueries(IncidentRepository incidents, VmDtoMapper mapper) {
        this.incidents = incidents;
        this.mapper = mapper;
    }

    /** By the incident's id or the id of any trigger event (or artifact incident id) that belongs to it. */
    @Transactional
    public Optional<IncidentDto> find(String id) {
        return incidents
                .incidentOf(id)
                .map(incidents::find)
                .map(incident -> mapper.toDto(
                        incident,
                        incidents.artifacts(incident.incidentId).stream()
                                .map(mapper::toDto)
                                .toList()));
    }
}
