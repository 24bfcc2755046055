//! `assets/icon.png` is the icon the code draws. Set ADSTUDIO_WRITE_ICON=1
//! to (re)write the file from the drawing.

use adstudio::ui::icon::{draw_icon, ICON_SIDE};

#[test]
fn icon_file_matches_the_drawing() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/icon.png");
    let drawn = draw_icon();
    if std::env::var_os("ADSTUDIO_WRITE_ICON").is_some() {
        drawn.save(&path).expect("write icon");
    }
    let file = image::open(&path)
        .expect("assets/icon.png readable")
        .to_rgba8();
    assert_eq!(file.dimensions(), (ICON_SIDE, ICON_SIDE));
    assert_eq!(
        file, drawn,
        "assets/icon.png differs from draw_icon(); rewrite it"
    );
    // Transparent corners, opaque centre.
    assert_eq!(file.get_pixel(0, 0).0[3], 0);
    assert_eq!(file.get_pixel(32, 40).0, [250, 250, 250, 255]);
}
