//! A fake INA219/INA226 register file behind embedded-hal's `I2c`, so the drivers run in tests without a Pi.

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
        words[0] = power_on_config(chip);
        if chip == Chip::Ina226 {
            words[0xFE] = 0x5449; // manufacturer id "TI"
            words[0xFF] = 0x2260; // die id
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

    /// Sets the four measurement registers: shunt (0x01), bus (0x02), power (0x03), current (0x04).
    pub fn set_measurement(&self, shunt: i16, bus: u16, power: u16, current: i16) {
        let mut registers = self.lock();
        registers.words[1] = u16::from_be_bytes(shunt.to_be_bytes());
        registers.words[2] = bus;
        registers.words[3] = power;
        registers.words[4] = u16::from_be_bytes(current.to_be_bytes());
    }

    fn lock(&self) -> MutexGuard<'_, Registers> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn power_on_config(chip: Chip) -> u16 {
    match chip {
        Chip::Ina219 => 0x399F,
        Chip::Ina226 => 0x4127,
    }
}

impl Registers {
    /// A write sets the register pointer; with two more bytes it also writes that register.
    fn write(&mut self, bytes: &[u8]) -> Result<(), FakeError> {
        let (&pointer, word) = bytes.split_first().ok_or(FakeError(ErrorKind::Other))?;
        self.pointer = pointer;
        if let [high, low] = *word {
            let word = u16::from_be_bytes([high, low]);
            if pointer == 0 && word & 0x8000 != 0 {
                self.words[..6].fill(0);
                self.words[0] = power_on_config(self.chip);
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
