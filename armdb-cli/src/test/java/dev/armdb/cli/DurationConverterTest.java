package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class DurationConverterTest {
    private final DurationConverter converter = new DurationConverter();

    @Test
    void unitsAndIsoForms() {
        assertThat(converter.convert("500us")).isEqualTo(Duration.ofNanos(500_000));
        assertThat(converter.convert("10ms")).isEqualTo(Duration.ofMillis(10));
        assertThat(converter.convert("2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(converter.convert("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThat(converter.convert("PT1.5S")).isEqualTo(Duration.ofMillis(1_500));
    }

    @Test
    void badOrNonPositiveDurationsSayWhatIsExpected() {
        assertThatThrownBy(() -> converter.convert("3q"))
                .isInstanceOf(TypeConversionException.class)
                .hasMessage("expected a duration such as 500us, 10ms, 2s, 1m or PT1S, got '3q'");
        assertThatThrownBy(() -> converter.convert("ms"))
                .isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("got 'ms'");
        assertThatThrownBy(() -> converter.convert("0s"))
                .isInstanceOf(TypeConversionException.class)
                .hasMessage("expected a positive duration, got '0s'");
    }
}
