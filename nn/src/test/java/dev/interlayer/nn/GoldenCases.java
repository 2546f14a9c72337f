package dev.interlayer.nn;

import com.google.gson.JsonObject;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.ArgumentsProvider;
import org.junit.jupiter.params.provider.ArgumentsSource;
import org.junit.jupiter.params.support.AnnotationConsumer;
import org.junit.jupiter.params.support.ParameterDeclarations;

/**
 * A parameterized test run once per case of golden/{value}, with two arguments: the case's {@code name} field
 * (the display name of the invocation) and the case's {@link JsonObject}. Each case passes or fails on its own.
 * Replaces the per-class {@code cases()} method plus {@link Golden#find} lookup.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "{0}")
@ArgumentsSource(GoldenCases.Provider.class)
public @interface GoldenCases {
    /** The fixture file under golden/, e.g. {@code "blocks.json"}. */
    String value();

    /** Reads the file named by the annotation with {@link Golden#cases}. */
    final class Provider implements ArgumentsProvider, AnnotationConsumer<GoldenCases> {
        private String file;

        /** Created by JUnit. */
        public Provider() {
        }

        @Override
        public void accept(GoldenCases annotation) {
            file = annotation.value();
        }

        @Override
        public Stream<? extends Arguments> provideArguments(ParameterDeclarations parameters,
                ExtensionContext context) {
            return Golden.cases(file).stream().map(c -> Arguments.of(c.get("name").getAsString(), c));
        }
    }
}
