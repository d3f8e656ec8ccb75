//! The file layer: arrays, images, sound, atomic writes and output checks.

use ndarray::{array, Array2, Array3, ShapeBuilder};
use ndarray_npy::{NpzWriter, WriteNpyExt};
use sparsecode_cli::io::{self, Audio, Dtype};
use std::fs::File;
use std::path::Path;

fn write_raw_npy<A: ndarray_npy::WritableElement, D: ndarray::Dimension>(path: &Path, a: &ndarray::ArrayRef<A, D>) {
    a.write_npy(File::create(path).unwrap()).unwrap();
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn matrices_round_trip_in_their_own_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let m64 = faer::Mat::from_fn(3, 4, |i, j| (i as f64 + 0.1) / (j as f64 + 3.0));
    let m32 = faer::Mat::from_fn(5, 2, |i, j| (i as f32 - 1.7) * (j as f32 + 0.3));
    let (p64, p32) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
    io::write_matrix(&p64, m64.as_ref()).unwrap();
    io::write_matrix(&p32, m32.as_ref()).unwrap();

    let a = io::read_array(&p64).unwrap();
    assert_eq!(a.dtype, Dtype::F64);
    assert_eq!(a.data.shape(), &[3, 4]);
    assert_eq!(io::to_matrix::<f64>(&a, "a").unwrap(), m64);

    let b = io::read_array(&p32).unwrap();
    assert_eq!(b.dtype, Dtype::F32);
    assert_eq!(io::read_matrix::<f32>(&p32, "b").unwrap(), m32, "f32 values survive the trip through f64");
    // And numpy sees what we wrote.
    let back: Array2<f32> = ndarray_npy::read_npy(&p32).unwrap();
    assert_eq!(back[[4, 1]], m32[(4, 1)]);
}

#[test]
fn fortran_order_arrays_are_read_in_logical_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.npy");
    // Column-major storage of [[1, 2, 3], [4, 5, 6]].
    let f = Array2::from_shape_vec((2, 3).f(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]).unwrap();
    write_raw_npy(&path, &f);
    let header = std::fs::read(&path).unwrap();
    assert!(String::from_utf8_lossy(&header[..128]).contains("'fortran_order': True"));
    let m = io::read_matrix::<f64>(&path, "f").unwrap();
    assert_eq!(m, faer::mat![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
}

#[test]
fn integer_and_bool_arrays_keep_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    write_raw_npy(&p("u8.npy"), &array![[0u8, 7], [200, 255]]);
    write_raw_npy(&p("u16.npy"), &array![1u16, 65535]);
    write_raw_npy(&p("i64.npy"), &array![-5i64, 16]);
    write_raw_npy(&p("b.npy"), &array![true, false]);

    let u8s = io::read_array(&p("u8.npy")).unwrap();
    assert_eq!((u8s.dtype, u8s.dtype.full_scale()), (Dtype::U8, Some(255.0)));
    assert_eq!(u8s.data.iter().copied().collect::<Vec<_>>(), [0.0, 7.0, 200.0, 255.0]);
    let u16s = io::read_array(&p("u16.npy")).unwrap();
    assert_eq!((u16s.dtype, u16s.data[[1]]), (Dtype::U16, 65535.0));
    let i64s = io::read_array(&p("i64.npy")).unwrap();
    assert_eq!((i64s.dtype, i64s.data[[0]], i64s.data[[1]]), (Dtype::I64, -5.0, 16.0));
    let bools = io::read_array(&p("b.npy")).unwrap();
    assert_eq!((bools.dtype, bools.data[[0]], bools.data[[1]]), (Dtype::Bool, 1.0, 0.0));
    assert_eq!(Dtype::F32.full_scale(), None);
}

#[test]
fn npz_archives_give_the_single_array_or_the_named_one() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.npz");
    let mut w = NpzWriter::new(File::create(&one).unwrap());
    w.add_array("x", &array![[1.5f32, 2.5]]).unwrap();
    w.finish().unwrap();
    let a = io::read_array(&one).unwrap();
    assert_eq!((a.dtype, a.data[[0, 1]]), (Dtype::F32, 2.5));

    let two = dir.path().join("two.npz");
    let mut w = NpzWriter::new_compressed(File::create(&two).unwrap());
    w.add_array("dictionary", &array![[1.0f64, 0.0], [0.0, 1.0]]).unwrap();
    w.add_array("codes", &array![[3u8]]).unwrap();
    w.finish().unwrap();
    let named = io::read_array(Path::new(&format!("{}:codes", two.display()))).unwrap();
    assert_eq!((named.dtype, named.data[[0, 0]]), (Dtype::U8, 3.0));
    assert!(named.source.ends_with("two.npz:codes"));

    let err = format!("{:#}", io::read_array(&two).unwrap_err());
    assert!(err.contains("holds 2 arrays") && err.contains("dictionary") && err.contains(":NAME"), "{err}");
    let err = format!("{:#}", io::read_array(Path::new(&format!("{}:nope", two.display()))).unwrap_err());
    assert!(err.contains("no array named \"nope\""), "{err}");
}

#[test]
fn unreadable_arrays_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.npy");
    let err = format!("{:#}", io::read_array(&missing).unwrap_err());
    assert!(err.contains("cannot read") && err.contains("missing.npy"), "{err}");

    let garbage = dir.path().join("garbage.npy");
    std::fs::write(&garbage, b"this is not numpy").unwrap();
    let err = format!("{:#}", io::read_array(&garbage).unwrap_err());
    assert!(err.contains("garbage.npy") && err.contains("not a valid .npy"), "{err}");

    // A complex64 array: a valid file of a dtype we do not take.
    let complex = dir.path().join("complex.npy");
    let header = "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let padded = format!("{header:<117}\n");
    bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    bytes.extend_from_slice(padded.as_bytes());
    bytes.extend_from_slice(&[0u8; 16]);
    std::fs::write(&complex, bytes).unwrap();
    let err = format!("{:#}", io::read_array(&complex).unwrap_err());
    assert!(err.contains("complex.npy") && err.contains("unsupported dtype") && err.contains("c8"), "{err}");

    let cube = dir.path().join("cube.npy");
    write_raw_npy(&cube, &Array3::<f64>::zeros((2, 3, 4)));
    let err = format!("{:#}", io::read_matrix::<f64>(&cube, "the dictionary").unwrap_err());
    assert!(err.contains("the dictionary") && err.contains("cube.npy") && err.contains("[2, 3, 4]"), "{err}");
}

#[test]
fn an_output_may_not_be_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.npy");
    std::fs::write(&input, b"data").unwrap();
    let same_spelled_differently = dir.path().join(".").join("x.npy");
    let err = format!("{:#}", io::check_output(&same_spelled_differently, &[&input]).unwrap_err());
    assert!(err.contains("also an input") && err.contains("x.npy"), "{err}");
    #[cfg(unix)]
    {
        let link = dir.path().join("link.npy");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        assert!(io::check_output(&link, &[&input]).is_err(), "a symbolic link to an input is the input");
    }
    let npz_input = dir.path().join("d.npz");
    let npz_member = Path::new(&format!("{}:atoms", npz_input.display())).to_path_buf();
    assert!(io::check_output(&npz_input, &[&npz_member]).is_err(), "FILE.npz:NAME is an input FILE.npz");
    io::check_output(&dir.path().join("z.npy"), &[&input]).unwrap();
    let err = format!("{:#}", io::check_output(&dir.path().join("no/such/dir/z.npy"), &[&input]).unwrap_err());
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), b"data");
}

#[test]
fn atomic_writes_leave_the_destination_intact_and_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    std::fs::write(&out, b"old").unwrap();
    let err = io::write_atomically(&out, |w| {
        use std::io::Write;
        w.write_all(b"half of the new content")?;
        anyhow::bail!("the computation failed half-way")
    })
    .unwrap_err();
    assert!(format!("{err:#}").contains("half-way"));
    assert_eq!(std::fs::read(&out).unwrap(), b"old", "a failed write keeps the old file");
    assert_eq!(entries(dir.path()), ["out.bin"], "no temporary file is left behind");

    io::write_json(&out, &serde_json::json!({"n": 3})).unwrap();
    let back: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(back["n"], 3);
    io::write_matrix(&dir.path().join("m.npy"), faer::mat![[1.0f64]].as_ref()).unwrap();
    assert_eq!(entries(dir.path()), ["m.npy", "out.bin"]);
}

#[test]
fn png_gray_round_trips_and_clamps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.png");
    let img = Array2::from_shape_fn((3, 5), |(y, x)| (y * 5 + x) as f64 * 17.0 / 255.0);
    io::write_png(&path, img.view()).unwrap();
    let back = io::read_image_gray(&path).unwrap();
    assert_eq!(back.dim(), (3, 5));
    for (a, b) in img.iter().zip(back.iter()) {
        assert_eq!(a, b, "multiples of 1/255 are stored exactly");
    }
    let wild = array![[-3.0, 0.5, 7.0, f64::NAN]];
    io::write_png(&path, wild.view()).unwrap();
    let back = io::read_image_gray(&path).unwrap();
    assert_eq!(back.row(0).to_vec(), [0.0, 128.0 / 255.0, 1.0, 0.0]);
}

#[test]
fn colour_images_become_bt709_gray_and_alpha_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let rgba = dir.path().join("rgba.png");
    let mut pixels = image::RgbaImage::new(2, 1);
    pixels.put_pixel(0, 0, image::Rgba([255, 0, 0, 10]));
    pixels.put_pixel(1, 0, image::Rgba([10, 20, 30, 255]));
    pixels.save(&rgba).unwrap();
    let gray = io::read_image_gray(&rgba).unwrap();
    assert!((gray[(0, 0)] - 0.2126).abs() < 1e-12, "alpha does not darken: {}", gray[(0, 0)]);
    let expected = (0.2126 * 10.0 + 0.7152 * 20.0 + 0.0722 * 30.0) / 255.0;
    assert!((gray[(0, 1)] - expected).abs() < 1e-12);
    let channels = io::read_image_channels(&rgba).unwrap();
    assert_eq!(channels.dim(), (1, 2, 3));
    assert_eq!(channels[(0, 1, 2)], 30.0 / 255.0);

    let deep = dir.path().join("deep.png");
    image::ImageBuffer::<image::Luma<u16>, _>::from_raw(1, 1, vec![65535u16 / 5]).unwrap().save(&deep).unwrap();
    assert_eq!(io::read_image_gray(&deep).unwrap()[(0, 0)], 13107.0 / 65535.0);
    assert_eq!(io::read_image_channels(&deep).unwrap().dim(), (1, 1, 1));

    let rgb_out = dir.path().join("rgb_out.png");
    io::write_png_channels(&rgb_out, channels.view()).unwrap();
    assert_eq!(io::read_image_channels(&rgb_out).unwrap(), channels);
    let err = format!("{:#}", io::read_image_gray(&dir.path().join("absent.png")).unwrap_err());
    assert!(err.contains("absent.png"), "{err}");
}

#[test]
fn wav_integer_samples_are_scaled_and_channels_become_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.wav");
    let spec =
        hound::WavSpec { channels: 2, sample_rate: 8000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for s in [16384i16, -32768, 1, 32767, -2, 0] {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    let audio = io::read_wav(&path).unwrap();
    assert_eq!(audio.sample_rate, 8000);
    assert_eq!(audio.channels, array![[0.5, 1.0 / 32768.0, -2.0 / 32768.0], [-1.0, 32767.0 / 32768.0, 0.0]]);

    let out = dir.path().join("f.wav");
    let mono = Audio { sample_rate: 22050, channels: array![[0.25, -0.75, 0.1]] };
    io::write_wav(&out, &mono).unwrap();
    let back = io::read_wav(&out).unwrap();
    assert_eq!(back.sample_rate, 22050);
    assert_eq!(back.channels[(0, 1)], -0.75);
    assert_eq!(back.channels[(0, 2)], 0.1f32 as f64);
}
