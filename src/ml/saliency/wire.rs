//! A minimal reader for the protocol-buffers wire format.
//!
//! Only what reading an ONNX file needs: walking the fields of a message,
//! varints, fixed 32/64-bit values and length-delimited payloads (strings,
//! bytes, nested messages and packed repeated scalars). Deprecated groups
//! are rejected.

use thiserror::Error;

/// A malformed protobuf payload.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The payload ended inside a field.
    #[error("truncated protobuf data at byte {0}")]
    Truncated(usize),
    /// A varint longer than 10 bytes.
    #[error("overlong varint at byte {0}")]
    OverlongVarint(usize),
    /// A wire type this reader does not handle (groups or invalid values).
    #[error("unsupported wire type {wire_type} for field {field} at byte {pos}")]
    UnsupportedWireType {
        /// The field number.
        field: u64,
        /// The wire type found.
        wire_type: u64,
        /// Offset of the field key.
        pos: usize,
    },
    /// A field whose wire type does not match the type expected for it.
    #[error("field {field}: expected {expected}, found another wire type")]
    WrongType {
        /// The field number.
        field: u64,
        /// What the schema expects.
        expected: &'static str,
    },
    /// A packed repeated field whose length is not a multiple of its item size.
    #[error("field {field}: packed length {len} is not a multiple of {item}")]
    BadPackedLength {
        /// The field number.
        field: u64,
        /// The payload length.
        len: usize,
        /// The size of one item.
        item: usize,
    },
    /// A string field that is not UTF-8.
    #[error("field {0}: string is not valid UTF-8")]
    BadUtf8(u64),
}

/// The value of one field, borrowed from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: bytes, string, message or packed scalars.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

/// One field of a message: its number and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field number from the schema.
    pub number: u64,
    /// The field's value.
    pub value: WireValue<'a>,
}

impl<'a> Field<'a> {
    /// The value as an unsigned varint.
    pub fn as_u64(&self) -> Result<u64, WireError> {
        match self.value {
            WireValue::Varint(v) => Ok(v),
            _ => Err(self.wrong("varint")),
        }
    }

    /// The value as a (two's complement) int64 varint.
    pub fn as_i64(&self) -> Result<i64, WireError> {
        // Protobuf int64/int32 are the varint's bits reinterpreted.
        self.as_u64().map(|v| v as i64)
    }

    /// The value as length-delimited bytes.
    pub fn as_bytes(&self) -> Result<&'a [u8], WireError> {
        match self.value {
            WireValue::Bytes(b) => Ok(b),
            _ => Err(self.wrong("length-delimited bytes")),
        }
    }

    /// The value as a UTF-8 string.
    pub fn as_str(&self) -> Result<&'a str, WireError> {
        std::str::from_utf8(self.as_bytes()?).map_err(|_| WireError::BadUtf8(self.number))
    }

    /// The value as a float (wire type 5).
    pub fn as_f32(&self) -> Result<f32, WireError> {
        match self.value {
            WireValue::Fixed32(v) => Ok(f32::from_bits(v)),
            _ => Err(self.wrong("fixed32 float")),
        }
    }

    /// Appends the int64 values of a repeated field, packed or not.
    pub fn push_i64s(&self, out: &mut Vec<i64>) -> Result<(), WireError> {
        match self.value {
            WireValue::Varint(v) => out.push(v as i64),
            WireValue::Bytes(b) => {
                let mut r = Reader::new(b);
                while !r.is_empty() {
                    out.push(r.varint()? as i64);
                }
            }
            _ => return Err(self.wrong("varint or packed varints")),
        }
        Ok(())
    }

    /// Appends the float values of a repeated field, packed or not.
    pub fn push_f32s(&self, out: &mut Vec<f32>) -> Result<(), WireError> {
        match self.value {
            WireValue::Fixed32(v) => out.push(f32::from_bits(v)),
            WireValue::Bytes(b) => {
                if b.len() % 4 != 0 {
                    return Err(WireError::BadPackedLength {
                        field: self.number,
                        len: b.len(),
                        item: 4,
                    });
                }
                out.extend(
                    b.chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                );
            }
            _ => return Err(self.wrong("fixed32 or packed floats")),
        }
        Ok(())
    }

    fn wrong(&self, expected: &'static str) -> WireError {
        WireError::WrongType {
            field: self.number,
            expected,
        }
    }
}

/// Iterates over the fields of one message.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over a message's bytes.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// True when all bytes were consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Reads one base-128 varint.
    pub fn varint(&mut self) -> Result<u64, WireError> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self
                .data
                .get(self.pos)
                .ok_or(WireError::Truncated(self.pos))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::OverlongVarint(start))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or(WireError::Truncated(self.data.len()))?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Reads the next field, or `None` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<Field<'a>>, WireError> {
        if self.is_empty() {
            return Ok(None);
        }
        let key_pos = self.pos;
        let key = self.varint()?;
        let number = key >> 3;
        let wire_type = key & 7;
        let value = match wire_type {
            0 => WireValue::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                WireValue::Fixed64(u64::from_le_bytes(a))
            }
            2 => {
                let len = self.varint()?;
                let len = usize::try_from(len).map_err(|_| WireError::Truncated(self.pos))?;
                WireValue::Bytes(self.take(len)?)
            }
            5 => {
                let b = self.take(4)?;
                WireValue::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => {
                return Err(WireError::UnsupportedWireType {
                    field: number,
                    wire_type,
                    pos: key_pos,
                })
            }
        };
        Ok(Some(Field { number, value }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_varint_string_and_packed_fields() {
        // field 1 varint 300; field 2 string "hi"; field 3 packed int64 [1, 150];
        // field 4 fixed32 1.5f32.
        let mut data = vec![
            0x08, 0xac, 0x02, 0x12, 0x02, b'h', b'i', 0x1a, 0x03, 0x01, 0x96, 0x01,
        ];
        data.push(0x25);
        data.extend(1.5f32.to_le_bytes());
        let mut r = Reader::new(&data);
        let f = r.next_field().unwrap().unwrap();
        assert_eq!((f.number, f.as_u64().unwrap()), (1, 300));
        let f = r.next_field().unwrap().unwrap();
        assert_eq!((f.number, f.as_str().unwrap()), (2, "hi"));
        let f = r.next_field().unwrap().unwrap();
        let mut v = Vec::new();
        f.push_i64s(&mut v).unwrap();
        assert_eq!(v, vec![1, 150]);
        let f = r.next_field().unwrap().unwrap();
        assert_eq!(f.as_f32().unwrap(), 1.5);
        assert!(r.next_field().unwrap().is_none());
    }

    #[test]
    fn truncated_and_wrong_types_are_errors() {
        let data = [0x12, 0x05, b'a'];
        assert!(matches!(
            Reader::new(&data).next_field(),
            Err(WireError::Truncated(_))
        ));
        let data = [0x08, 0x01];
        let f = Reader::new(&data).next_field().unwrap().unwrap();
        assert!(f.as_bytes().is_err());
        let group = [0x0b];
        assert!(matches!(
            Reader::new(&group).next_field(),
            Err(WireError::UnsupportedWireType { wire_type: 3, .. })
        ));
    }
}
