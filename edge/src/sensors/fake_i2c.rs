//! A fake INA219/INA226 register file behind embedded-hal's `I2c`, so the drivers run in tests without a Pi.
//!
//! It behaves like the chips where the drivers and tests rely on it: the power-on words of TI's register tables
//! (INA219 SBOS448F Table 4, p. 25; INA226 SBOS547B Table 7-1), the self-clearing reset bit 15 of the
//! configuration register, and, through [`FakeIna::convert`], current and power computed from the shunt and bus
//! words and the calibration register with the chips' own integer equations.

use std::sync::{Arc, Mutex, MutexGuard};

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};

use super::ina2xx::Chip;

/// A chip at one address; clones share the registers, so a test keeps a handle while the sensor owns one.
#[derive(Clone)]
pub struct FakeIna(Arc<Mutex<Registers>>);

struct Registers {
    chip: Chip,
    present: bool,
    pointer: u8,
    words: [u16; 256],
}

/// What a missing chip or a bad transfer returns.
#[derive(Debug)]
pub struct FakeError(ErrorKind);

impl std::fmt::Display for FakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl embedded_hal::i2c::Error for FakeError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

impl FakeIna {
    /// A chip in its power-on state.
    pub fn new(chip: Chip) -> Self {
        let mut words = [0; 256];
        reset_words(chip, &mut words);
        if chip == Chip::Ina226 {
            words[0xFE] = 0x5449; // manufacturer id "TI" (SBOS547B Table 7-1)
            words[0xFF] = 0x2260; // die id (SBOS547B Table 7-1)
        }
        Self(Arc::new(Mutex::new(Registers {
            chip,
            present: true,
            pointer: 0,
            words,
        })))
    }

    /// Nothing answers at the address.
    pub fn absent(chip: Chip) -> Self {
        let fake = Self::new(chip);
        fake.lock().present = false;
        fake
    }

    /// A register's current word.
    pub fn register(&self, register: u8) -> u16 {
        self.lock().words[usize::from(register)]
    }

    /// Sets a register as the chip would.
    pub fn set_register(&self, register: u8, word: u16) {
        self.lock().words[usize::from(register)] = word;
    }

    /// One conversion as the chip makes it: stores the shunt (0x01) and bus (0x02) words, then derives current
    /// (0x04) and power (0x03) from them and the calibration register (0x05), truncating as integer math does.
    /// INA219 (SBOS448F p. 30): Current = Shunt × Cal / 4096, Power = Current × (Bus >> 3) / 5000; a result beyond
    /// its register sets OVF (bus bit 0). INA226 (SBOS547 Equations 3 and 4): Current = Shunt × Cal / 2048,
    /// Power = Current × Bus / 20000. Power is computed from the current's magnitude.
    pub fn convert(&self, shunt: i16, bus: u16) {
        let mut registers = self.lock();
        let chip = registers.chip;
        let (current_divisor, bus_counts, power_divisor) = match chip {
            Chip::Ina219 => (4096, i64::from(bus >> 3), 5000),
            Chip::Ina226 => (2048, i64::from(bus & 0x7FFF), 20_000),
        };
        let calibration = i64::from(registers.words[5]);
        let current = i64::from(shunt) * calibration / current_divisor;
        let power = current.abs() * bus_counts / power_divisor;
        let current_word = i16::try_from(current);
        let power_word = u16::try_from(power);
        let overflowed = current_word.is_err() || power_word.is_err();
        let overflow_flag = u16::from(overflowed && chip == Chip::Ina219);
        let current_word = current_word.unwrap_or(if current < 0 { i16::MIN } else { i16::MAX });
        registers.words[1] = u16::from_be_bytes(shunt.to_be_bytes());
        registers.words[2] = bus | overflow_flag;
        registers.words[3] = power_word.unwrap_or(u16::MAX);
        registers.words[4] = u16::from_be_bytes(current_word.to_be_bytes());
    }

    fn lock(&self) -> MutexGuard<'_, Registers> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Puts the registers a reset touches into their power-on state: configuration 399Fh and 01h..05h zero on the
/// INA219 (SBOS448F Table 4, p. 25; the shunt and bus words are measurements, zero until the first conversion),
/// configuration 4127h and 01h..07h (through Mask/Enable and Alert Limit) zero on the INA226 (SBOS547B Table 7-1).
fn reset_words(chip: Chip, words: &mut [u16; 256]) {
    let (config, last) = match chip {
        Chip::Ina219 => (0x399F, 0x05),
        Chip::Ina226 => (0x4127, 0x07),
    };
    words[0] = config;
    words[1..=last].fill(0);
}

impl Registers {
    /// A write sets the register pointer; with two more bytes it also writes that register.
    fn write(&mut self, bytes: &[u8]) -> Result<(), FakeError> {
        let (&pointer, word) = bytes.split_first().ok_or(FakeError(ErrorKind::Other))?;
        self.pointer = pointer;
        if let [high, low] = *word {
            let word = u16::from_be_bytes([high, low]);
            // RST, bit 15 of the configuration register: "Resets all registers to default values; this bit
            // self-clears" (SBOS448F p. 26; SBOS547 p. 18).
            if pointer == 0 && word & 0x8000 != 0 {
                reset_words(self.chip, &mut self.words);
            } else {
                self.words[usize::from(pointer)] = word;
            }
        }
        Ok(())
    }

    fn read(&self, buffer: &mut [u8]) -> Result<(), FakeError> {
        let bytes = self.words[usize::from(self.pointer)].to_be_bytes();
        buffer
            .get_mut(..2)
            .ok_or(FakeError(ErrorKind::Other))?
            .copy_from_slice(&bytes);
        Ok(())
    }
}

impl ErrorType for FakeIna {
    type Error = FakeError;
}

impl I2c for FakeIna {
    fn transaction(
        &mut self,
        _address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), FakeError> {
        let mut registers = self.lock();
        if !registers.present {
            return Err(FakeError(ErrorKind::NoAcknowledge(
                NoAcknowledgeSource::Address,
            )));
        }
        for operation in operations {
            match operation {
                Operation::Write(bytes) => registers.write(bytes)?,
                Operation::Read(buffer) => registers.read(buffer)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(chip: &FakeIna, registers: std::ops::RangeInclusive<u8>) -> Vec<u16> {
        registers.map(|r| chip.register(r)).collect()
    }

    /// RST returns every register of SBOS547B Table 7-1 to its power-on word, Mask/Enable and Alert Limit too;
    /// the ids stay, and the bit clears itself.
    #[test]
    fn an_ina226_reset_restores_table_7_1() {
        let mut chip = FakeIna::new(Chip::Ina226);
        for (register, word) in [(0x05, 0x0A00), (0x06, 0x8000), (0x07, 0x7080)] {
            chip.set_register(register, word);
        }
        chip.write(0x40, &[0x00, 0x81, 0x27]).expect("writes");
        assert_eq!(words(&chip, 0..=7), [0x4127, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(words(&chip, 0xFE..=0xFF), [0x5449, 0x2260]);
    }

    /// The INA219 has registers 00h..05h only (SBOS448F Table 4, p. 25): RST restores 399Fh and zeros.
    #[test]
    fn an_ina219_reset_restores_table_4() {
        let mut chip = FakeIna::new(Chip::Ina219);
        chip.set_register(0x00, 0x019F);
        chip.convert(0x07D0, 0x5D98);
        chip.write(0x40, &[0x00, 0x80, 0x00]).expect("writes");
        assert_eq!(words(&chip, 0..=5), [0x399F, 0, 0, 0, 0, 0]);
    }

    /// Without a calibration the chips report zero current and power (SBOS448F Table 4, note 2).
    #[test]
    fn an_uncalibrated_conversion_reads_zero_current_and_power() {
        let chip = FakeIna::new(Chip::Ina226);
        chip.convert(0x1F40, 0x2570);
        assert_eq!(words(&chip, 1..=4), [0x1F40, 0x2570, 0, 0]);
    }

    /// A reversed current is negative; power comes from its magnitude.
    #[test]
    fn a_reversed_current_converts_negative_with_positive_power() {
        let chip = FakeIna::new(Chip::Ina226);
        chip.set_register(0x05, 0x0A00);
        chip.convert(-0x1F40, 0x2570);
        assert_eq!(chip.register(0x04) as i16, -0x2710);
        assert_eq!(chip.register(0x03), 0x12B8);
    }
}
