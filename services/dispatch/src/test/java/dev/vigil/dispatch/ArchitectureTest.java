package dev.vigil.dispatch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

class ArchitectureTest {

    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.vigil.dispatch");

    @Test
    void domainStaysFreeOfFrameworks() {
        noClasses()
                .that()
                .resideInAPackage("..dispatch.domain..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "jakarta.ws.rs..",
                        "jakarta.persistence..",
                        "java.sql..",
                        "org.apache.kafka..",
                        "org.apache.avro..",
                        "io.quarkus..",
                        "io.minio..")
                .check(classes);
    }

    @Test
    void servicesDoNotReachIntoTheApi() {
        noClasses()
                .that()
                .resideInAnyPackage("..dispatch.service..", "..dispatch.persistence..", "..dispatch.messaging..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("..dispatch.api..")
                .check(classes);
    }

    @Test
    void onlyThePersistencePackageWritesSql() {
        noClasses()
                .that()
                .resideOutsideOfPackage("..dispatch.persistence..")
                .should()
                .callMethod(java.sql.Connection.class, "prepareStatement", String.class)
                .check(classes);
    }
}
