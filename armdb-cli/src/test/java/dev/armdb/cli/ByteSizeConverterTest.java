package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class ByteSizeConverterTest {
    private final ByteSizeConverter converter = new ByteSizeConverter();

    @Test
    void plainNumbersAndBinaryUnits() {
        assertThat(converter.convert("1048576")).isEqualTo(1L << 20);
        assertThat(converter.convert("512kb")).isEqualTo(512L << 10);
        assertThat(converter.convert("64MB")).isEqualTo(64L << 20);
        assertThat(converter.convert("64m")).isEqualTo(64L << 20);
        assertThat(converter.convert(" 1gb ")).isEqualTo(1L << 30);
    }

    @Test
    void badOrNonPositiveSizesSayWhatIsExpected() {
        assertThatThrownBy(() -> converter.convert("12xb"))
                .isInstanceOf(TypeConversionException.class)
                .hasMessage("expected a size such as 1048576, 512kb, 64mb or 1gb, got '12xb'");
        assertThatThrownBy(() -> converter.convert("mb"))
                .isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("got 'mb'");
        assertThatThrownBy(() -> converter.convert("0"))
                .isInstanceOf(TypeConversionException.class)
                .hasMessage("expected a positive size, got '0'");
        assertThatThrownBy(() -> converter.convert("9999999999999g"))
                .isInstanceOf(TypeConversionException.class)
                .hasMessage("expected a positive size, got '9999999999999g'");
        assertThatThrownBy(() -> converter.convert("-5mb"))
                .isInstanceOf(TypeConversionException.class)
                .hasMessage("expected a positive size, got '-5mb'");
    }
}
