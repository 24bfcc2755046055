//! The labelling mode's keyboard: which key does what, and taking those
//! keys out of a frame's input.
//!
//! | key | action |
//! |---|---|
//! | Left or A | left better |
//! | Right or L | right better |
//! | T | tie |
//! | C | can't tell |
//! | S | skip |
//! | Backspace or Ctrl+Z | undo |
//! | Esc | leave the mode |
//!
//! Ctrl+L (Cmd+L on macOS) opens and leaves the mode from anywhere. Held
//! keys do not repeat: each label needs its own key press.

use egui::{Event, Key, Modifiers};

use crate::studio::labelling::Answer;

/// What a key does in the labelling mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKey {
    /// Label the shown pair.
    Answer(Answer),
    /// Retract the last label.
    Undo,
    /// Leave the labelling mode.
    Leave,
}

/// The labelling action of a key press with `modifiers` held, if any.
/// Keys with Alt or Ctrl/Cmd held are not labels (only Ctrl+Z undoes).
pub fn label_key(key: Key, modifiers: Modifiers) -> Option<LabelKey> {
    if modifiers.command || modifiers.ctrl {
        return (key == Key::Z && !modifiers.shift && !modifiers.alt).then_some(LabelKey::Undo);
    }
    if modifiers.alt {
        return None;
    }
    Some(match key {
        Key::ArrowLeft | Key::A => LabelKey::Answer(Answer::Left),
        Key::ArrowRight | Key::L => LabelKey::Answer(Answer::Right),
        Key::T => LabelKey::Answer(Answer::Tie),
        Key::C => LabelKey::Answer(Answer::CantTell),
        Key::S => LabelKey::Answer(Answer::Skip),
        Key::Backspace => LabelKey::Undo,
        Key::Escape => LabelKey::Leave,
        _ => return None,
    })
}

/// Takes the labelling key presses out of `events` (first pressed first);
/// other events are left for the rest of the UI. Repeats of a held key are
/// taken out and dropped.
pub fn take_label_keys(events: &mut Vec<Event>) -> Vec<LabelKey> {
    let mut keys = Vec::new();
    events.retain(|event| {
        let Event::Key {
            key,
            pressed,
            repeat,
            modifiers,
            ..
        } = event
        else {
            return true;
        };
        match label_key(*key, *modifiers) {
            Some(action) => {
                if *pressed && !*repeat {
                    keys.push(action);
                }
                false
            }
            None => true,
        }
    });
    keys
}

/// Whether `events` hold a Ctrl+L (Cmd+L) press, which is taken out.
pub fn take_mode_toggle(events: &mut Vec<Event>) -> bool {
    let mut found = false;
    events.retain(|event| match event {
        Event::Key {
            key: Key::L,
            pressed,
            modifiers,
            ..
        } if (modifiers.command || modifiers.ctrl) && !modifiers.shift && !modifiers.alt => {
            found |= *pressed;
            false
        }
        _ => true,
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(key: Key, modifiers: Modifiers, repeat: bool) -> Event {
        Event::Key {
            key,
            physical_key: None,
            pressed: true,
            repeat,
            modifiers,
        }
    }

    #[test]
    fn every_documented_key_maps_to_its_action() {
        let none = Modifiers::NONE;
        let cases = [
            (Key::A, Some(LabelKey::Answer(Answer::Left))),
            (Key::ArrowLeft, Some(LabelKey::Answer(Answer::Left))),
            (Key::L, Some(LabelKey::Answer(Answer::Right))),
            (Key::ArrowRight, Some(LabelKey::Answer(Answer::Right))),
            (Key::T, Some(LabelKey::Answer(Answer::Tie))),
            (Key::C, Some(LabelKey::Answer(Answer::CantTell))),
            (Key::S, Some(LabelKey::Answer(Answer::Skip))),
            (Key::Backspace, Some(LabelKey::Undo)),
            (Key::Escape, Some(LabelKey::Leave)),
            (Key::Z, None),
            (Key::B, None),
        ];
        for (key, expected) in cases {
            assert_eq!(label_key(key, none), expected, "{key:?}");
        }
        assert_eq!(label_key(Key::Z, Modifiers::COMMAND), Some(LabelKey::Undo));
        assert_eq!(label_key(Key::Z, Modifiers::CTRL), Some(LabelKey::Undo));
        assert_eq!(
            label_key(Key::Z, Modifiers::COMMAND | Modifiers::SHIFT),
            None
        );
        assert_eq!(label_key(Key::A, Modifiers::COMMAND), None, "select all");
        assert_eq!(label_key(Key::L, Modifiers::COMMAND), None, "mode toggle");
        assert_eq!(label_key(Key::S, Modifiers::ALT), None);
    }

    #[test]
    fn label_keys_are_taken_in_order_without_repeats() {
        let mut events = vec![
            press(Key::T, Modifiers::NONE, false),
            Event::Text("t".into()),
            press(Key::T, Modifiers::NONE, true),
            press(Key::Q, Modifiers::NONE, false),
            press(Key::Z, Modifiers::COMMAND, false),
            press(Key::L, Modifiers::COMMAND, false),
        ];
        let keys = take_label_keys(&mut events);
        assert_eq!(keys, vec![LabelKey::Answer(Answer::Tie), LabelKey::Undo]);
        assert_eq!(events.len(), 3, "text, Q and Ctrl+L stay: {events:?}");
        assert!(take_mode_toggle(&mut events));
        assert_eq!(events.len(), 2);
        assert!(!take_mode_toggle(&mut events));
    }
}
