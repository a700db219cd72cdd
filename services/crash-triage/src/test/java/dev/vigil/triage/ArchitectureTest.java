package dev.vigil.triage;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * The rules that keep crash triage's feature packages clean (docs/adr/0005): no cycles between packages, the
 * signing core free of frameworks and storage, HTTP only at the edge, Kafka only in its adapters, SQL only in
 * repositories, metrics declared in one class.
 */
class ArchitectureTest {

    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.vigil.triage");

    @Test
    void packagesDependOnEachOtherInOneDirection() {
        slices().matching("dev.vigil.triage.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void evidenceAndSignaturesArePlainJava() {
        noClasses()
                .that()
                .resideInAnyPackage("..triage.evidence..", "..triage.signature..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "jakarta..",
                        "io.quarkus..",
                        "io.agroal..",
                        "io.smallrye..",
                        "io.micrometer..",
                        "org.apache.kafka..",
                        "org.eclipse.microprofile..",
                        "java.sql..")
                .check(classes);
    }

    @Test
    void onlyTheApiAndTheUptimeClientSpeakHttp() {
        noClasses()
                .that()
                .resideOutsideOfPackages("..triage.api..", "..triage.uptime..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("jakarta.ws.rs..", "io.quarkus.rest..", "org.jboss.resteasy..")
                .check(classes);
    }

    @Test
    void onlyTheMessagingAdaptersSpeakKafka() {
        noClasses()
                .that()
                .resideOutsideOfPackages("..triage.messaging..", "..triage.outbox..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "org.apache.kafka..",
                        "io.smallrye.reactive.messaging..",
                        "org.eclipse.microprofile.reactive.messaging..")
                .check(classes);
    }

    /**
     * Services declare transactions and repositories own the SQL: nothing else holds a connection, a statement or a
     * result set, so nothing else can commit or roll back by hand. A {@link SQLException} may pass through.
     */
    @Test
    void onlyRepositoriesTalkToTheDatabase() {
        noClasses()
                .that()
                .haveNameNotMatching(".*Repository(\\$.*)?")
                .should()
                .dependOnClassesThat(resideInAnyPackage("java.sql..", "javax.sql..", "io.agroal..", "org.postgresql..")
                        .and(not(assignableTo(SQLException.class))))
                .check(classes);
    }

    @Test
    void metricsAreDeclaredInOnePlace() {
        noClasses()
                .that()
                .resideOutsideOfPackage("..triage.metrics..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("io.micrometer..")
                .check(classes);
    }

    @Test
    void nothingDependsOnTheApi() {
        noClasses()
                .that()
                .resideOutsideOfPackage("..triage.api..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("..triage.api..")
                .check(classes);
    }
}
