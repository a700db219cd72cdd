package dev.vigil.ingestion;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.vigil.ingestion");

    @Test
    void domainStaysFreeOfFrameworks() {
        noClasses()
                .that()
                .resideInAPackage("..ingestion.domain..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "jakarta.ws.rs..",
                        "jakarta.persistence..",
                        "org.apache.kafka..",
                        "org.apache.avro..",
                        "io.quarkus..")
                .check(classes);
    }

    @Test
    void entitiesStayOutOfTheApi() {
        noClasses()
                .that()
                .resideInAPackage("..ingestion.api..")
                .should()
                .dependOnClassesThat()
                .haveSimpleNameEndingWith("Entity")
                .check(classes);
    }
}
