package dev.armdb.cli;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses a positive duration written as a number and a unit ({@code 500us}, {@code 10ms}, {@code 2s}, {@code 1m}) or
 * in ISO-8601 ({@code PT1S}). Stateless and thread-safe.
 */
final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        Duration d;
        try {
            if (t.startsWith("pt")) {
                d = Duration.parse(t);
            } else if (t.endsWith("us")) {
                d = Duration.ofNanos(Math.multiplyExact(Long.parseLong(t.substring(0, t.length() - 2)), 1_000L));
            } else if (t.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            } else if (t.endsWith("s")) {
                d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            } else if (t.endsWith("m")) {
                d = Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            } else {
                throw new TypeConversionException(expected(text));
            }
        } catch (RuntimeException e) {
            if (e instanceof TypeConversionException tce) {
                throw tce;
            }
            throw new TypeConversionException(expected(text));
        }
        if (d.isNegative() || d.isZero()) {
            throw new TypeConversionException("expected a positive duration, got '" + text + "'");
        }
        return d;
    }

    private static String expected(String text) {
        return "expected a duration such as 500us, 10ms, 2s, 1m or PT1S, got '" + text + "'";
    }
}
