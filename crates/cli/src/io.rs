//! Reading and writing the files the CLI works with: NumPy `.npy`/`.npz`
//! arrays, images (PNG, JPEG, TIFF in; PNG out), WAV sound and JSON reports.
//!
//! Rules every subcommand inherits from here:
//!
//! - **Arrays** are read into `f64` whatever their stored dtype ([`read_array`]);
//!   the dtype is kept beside the data ([`Dtype`]) so that a command can
//!   compute in the input's precision. `f32` values survive the trip through
//!   `f64` exactly. **Integer and boolean arrays keep their values**: `7u8`
//!   becomes `7.0`, `true` becomes `1.0`; nothing is rescaled. A command that
//!   wants `[0, 1]` (e.g. 8-bit video frames) divides by
//!   [`Dtype::full_scale`]. C and Fortran order are both read; the result is in
//!   logical (row-major) order either way.
//! - `.npz` archives are read as `FILE.npz` when they hold a single array, or
//!   `FILE.npz:NAME` to pick one.
//! - **Images** are read to `[0, 1]`: 8-bit samples are divided by 255, 16-bit
//!   samples by 65535, float samples are kept. An alpha channel is dropped
//!   (ignored, not composited). [`read_image_gray`] turns colour into gray with
//!   the BT.709 luma weights `0.2126 R + 0.7152 G + 0.0722 B`, applied to the
//!   stored (gamma-encoded) values; [`read_image_channels`] keeps the channels.
//!   PNG output is 8-bit, values clamped to `[0, 1]` and scaled by 255.
//! - **WAV** samples are read as `f64` in `[-1, 1)`: integer samples of `b` bits
//!   are divided by `2^(b-1)` (so 16-bit data equals `int16 / 32768`), float
//!   samples are kept. Multichannel files give one row per channel. WAV output
//!   is 32-bit float.
//! - **Every write is atomic** ([`write_atomically`]): the data go to a
//!   temporary file in the destination directory, which is flushed, synced and
//!   renamed over the destination only once complete. A failed or interrupted
//!   command never leaves a partial output file. Commands call
//!   [`check_output`] before computing, which refuses an output path that is
//!   one of the inputs.
//!
//! Every error names the file it is about.
//!
//! ```
//! use sparsecode_cli::io;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("m.npy");
//! let m = faer::mat![[1.0f32, 2.0], [3.0, 4.0]];
//! io::write_matrix(&path, m.as_ref()).unwrap();
//! let back = io::read_array(&path).unwrap();
//! assert_eq!(back.dtype, io::Dtype::F32);
//! let m2: faer::Mat<f32> = io::to_matrix(&back, "m").unwrap();
//! assert_eq!(m2, m);
//! ```

use anyhow::{anyhow, bail, Context as _};
use faer::{Mat, MatRef};
use ndarray::{Array2, Array3, ArrayBase, ArrayD, ArrayView2, ArrayView3, Axis, Data, Dimension};
use ndarray_npy::{NpzReader, ReadNpyError, ReadNpyExt, ReadNpzError, ReadableElement, WritableElement, WriteNpyExt};
use sparsecode::Float;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The element type an array was stored with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// 64-bit float.
    F64,
    /// 32-bit float.
    F32,
    /// Unsigned 8-bit integer.
    U8,
    /// Unsigned 16-bit integer.
    U16,
    /// Unsigned 32-bit integer.
    U32,
    /// Unsigned 64-bit integer.
    U64,
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
    /// Boolean.
    Bool,
}

impl Dtype {
    /// NumPy's name for the type ("float64", "uint8", ...).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "float64",
            Dtype::F32 => "float32",
            Dtype::U8 => "uint8",
            Dtype::U16 => "uint16",
            Dtype::U32 => "uint32",
            Dtype::U64 => "uint64",
            Dtype::I8 => "int8",
            Dtype::I16 => "int16",
            Dtype::I32 => "int32",
            Dtype::I64 => "int64",
            Dtype::Bool => "bool",
        }
    }

    /// The largest value of an integer type (`255` for `uint8`, `65535` for
    /// `uint16`, `1` for `bool`): divide by it to map unsigned data to `[0, 1]`.
    /// `None` for floats, which are taken as they are.
    pub fn full_scale(self) -> Option<f64> {
        match self {
            Dtype::F64 | Dtype::F32 => None,
            Dtype::U8 => Some(u8::MAX as f64),
            Dtype::U16 => Some(u16::MAX as f64),
            Dtype::U32 => Some(u32::MAX as f64),
            Dtype::U64 => Some(u64::MAX as f64),
            Dtype::I8 => Some(i8::MAX as f64),
            Dtype::I16 => Some(i16::MAX as f64),
            Dtype::I32 => Some(i32::MAX as f64),
            Dtype::I64 => Some(i64::MAX as f64),
            Dtype::Bool => Some(1.0),
        }
    }
}

/// An N-D array read from a file, as `f64`, with the dtype it was stored as.
#[derive(Debug, Clone)]
pub struct NpyArray {
    /// The values, in logical row-major order.
    pub data: ArrayD<f64>,
    /// The stored element type.
    pub dtype: Dtype,
    /// Where it came from (for messages), including any `:NAME` of an `.npz`.
    pub source: String,
}

/// Where the bytes of one `.npy` payload come from.
enum NpySource<'a> {
    Bytes(&'a [u8]),
    Npz(&'a mut NpzReader<File>, &'a str),
}

impl NpySource<'_> {
    fn load<A: ReadableElement>(&mut self) -> Result<ArrayD<A>, ReadNpyError> {
        match self {
            NpySource::Bytes(bytes) => ArrayD::<A>::read_npy(*bytes),
            NpySource::Npz(npz, name) => npz.by_name(name).map_err(|err| match err {
                ReadNpzError::Npy(inner) => inner,
                ReadNpzError::Zip(zip) => ReadNpyError::Io(std::io::Error::other(zip)),
            }),
        }
    }
}

/// Reads an array of any supported dtype from `source`, trying the element
/// types in turn: a type mismatch is detected from the header alone.
fn load_any(mut source: NpySource<'_>) -> Result<(ArrayD<f64>, Dtype), ReadNpyError> {
    macro_rules! attempt {
        ($elem:ty, $dtype:expr) => {
            match source.load::<$elem>() {
                Ok(a) => return Ok((a.mapv(|v| v as f64), $dtype)),
                Err(ReadNpyError::WrongDescriptor(_)) => {}
                Err(err) => return Err(err),
            }
        };
    }
    attempt!(f64, Dtype::F64);
    attempt!(f32, Dtype::F32);
    attempt!(u8, Dtype::U8);
    attempt!(u16, Dtype::U16);
    attempt!(u32, Dtype::U32);
    attempt!(u64, Dtype::U64);
    attempt!(i8, Dtype::I8);
    attempt!(i16, Dtype::I16);
    attempt!(i32, Dtype::I32);
    attempt!(i64, Dtype::I64);
    match source.load::<bool>() {
        Ok(a) => Ok((a.mapv(|v| if v { 1.0 } else { 0.0 }), Dtype::Bool)),
        Err(err) => Err(err),
    }
}

fn describe_npy_error(err: ReadNpyError) -> anyhow::Error {
    match err {
        ReadNpyError::WrongDescriptor(desc) => {
            anyhow!("unsupported dtype {desc}; expected a float (float32, float64), integer or bool array")
        }
        other => anyhow!("not a valid .npy array: {other}"),
    }
}

/// Splits `FILE.npz:NAME` into the archive path and the array name.
fn split_npz_name(path: &Path) -> (PathBuf, Option<String>) {
    let text = path.to_string_lossy();
    if let Some(pos) = text.rfind(".npz:") {
        let (file, name) = text.split_at(pos + 4);
        return (PathBuf::from(file), Some(name[1..].to_string()));
    }
    (path.to_path_buf(), None)
}

/// Reads a `.npy` file, or an array of an `.npz` archive (`FILE.npz` holding
/// one array, or `FILE.npz:NAME`), converting its values to `f64` (see the
/// module documentation for the rules).
pub fn read_array(path: &Path) -> anyhow::Result<NpyArray> {
    let (file, name) = split_npz_name(path);
    let is_npz = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    if is_npz {
        read_npz(&file, name.as_deref())
    } else {
        let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let (data, dtype) = load_any(NpySource::Bytes(&bytes))
            .map_err(describe_npy_error)
            .with_context(|| format!("{}", file.display()))?;
        Ok(NpyArray { data, dtype, source: file.display().to_string() })
    }
}

fn read_npz(file: &Path, name: Option<&str>) -> anyhow::Result<NpyArray> {
    let handle = File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut npz = NpzReader::new(handle).with_context(|| format!("{} is not a valid .npz archive", file.display()))?;
    let names = npz.names().with_context(|| format!("{} is not a valid .npz archive", file.display()))?;
    let name = match name {
        Some(n) if names.iter().any(|m| m == n) => n.to_string(),
        Some(n) => bail!("{} has no array named {n:?}; it holds {names:?}", file.display()),
        None if names.len() == 1 => names[0].clone(),
        None => {
            bail!("{} holds {} arrays {names:?}; pick one with {}:NAME", file.display(), names.len(), file.display())
        }
    };
    let source = format!("{}:{name}", file.display());
    let (data, dtype) =
        load_any(NpySource::Npz(&mut npz, &name)).map_err(describe_npy_error).with_context(|| source.clone())?;
    Ok(NpyArray { data, dtype, source })
}

/// Converts a 2-D array to a faer matrix of `T`; `what` names its role in
/// messages ("the dictionary", "X"). Fails unless the array is 2-D.
pub fn to_matrix<T: Float>(array: &NpyArray, what: &str) -> anyhow::Result<Mat<T>> {
    let shape = array.data.shape();
    if shape.len() != 2 {
        bail!("{what} ({}) must be a 2-D array (rows x columns), but its shape is {shape:?}", array.source);
    }
    let (rows, cols) = (shape[0], shape[1]);
    Ok(match array.data.as_slice() {
        // Row-major and contiguous (C order): index the buffer directly.
        Some(values) => Mat::from_fn(rows, cols, |i, j| T::of(values[i * cols + j])),
        None => Mat::from_fn(rows, cols, |i, j| T::of(array.data[[i, j]])),
    })
}

/// Reads a 2-D array (see [`read_array`]) into a faer matrix of `T`.
pub fn read_matrix<T: Float>(path: &Path, what: &str) -> anyhow::Result<Mat<T>> {
    to_matrix(&read_array(path)?, what)
}

/// Resolves a path to what it names on disk: the canonical path if it exists,
/// else its canonical parent joined with its file name.
fn identity(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => parent.canonicalize().map(|p| p.join(name)).unwrap_or(absolute.clone()),
        _ => absolute,
    }
}

/// Fails if `output` names the same file as one of `inputs` (after resolving
/// relative paths and symbolic links), or if its directory does not exist.
/// Call it before computing, so that no work is wasted.
pub fn check_output(output: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
    let out = identity(output);
    for input in inputs {
        let (file, _) = split_npz_name(input);
        if identity(&file) == out {
            bail!(
                "the output path {} is also an input ({}); refusing to overwrite an input, choose another output",
                output.display(),
                input.display()
            );
        }
    }
    let dir = parent_dir(output);
    if !dir.is_dir() {
        bail!("cannot write {}: directory {} does not exist", output.display(), dir.display());
    }
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `path` atomically: `write` fills a temporary file in the same
/// directory, which is then flushed, synced to disk and renamed to `path`.
/// On any error the temporary file is removed and `path` is left untouched.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = parent_dir(path);
    let mut tmp =
        tempfile::Builder::new().prefix(".sparsecode-").suffix(".tmp").tempfile_in(&dir).with_context(|| {
            format!("cannot create a temporary file in {} to write {}", dir.display(), path.display())
        })?;
    {
        let mut writer = BufWriter::new(tmp.as_file_mut());
        write(&mut writer).with_context(|| format!("cannot write {}", path.display()))?;
        writer.flush().with_context(|| format!("cannot write {}", path.display()))?;
    }
    tmp.as_file().sync_all().with_context(|| format!("cannot sync {} to disk", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot move the finished file to {}", path.display()))?;
    Ok(())
}

/// Writes an N-D array as `.npy` (C order), atomically.
pub fn write_npy<A, S, D>(path: &Path, array: &ArrayBase<S, D>) -> anyhow::Result<()>
where
    A: WritableElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    write_atomically(path, |w| Ok(array.write_npy(w)?))
}

/// Writes a faer matrix as a 2-D `.npy` of its own dtype (C order), atomically.
pub fn write_matrix<T: Float + WritableElement>(path: &Path, m: MatRef<'_, T>) -> anyhow::Result<()> {
    let array = Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)]);
    write_npy(path, &array)
}

/// Writes `value` as pretty-printed JSON, atomically.
pub fn write_json(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value)?;
        w.write_all(b"\n")?;
        Ok(())
    })
}

/// Samples of one image, with its size, channel count and the divisor that
/// maps them to `[0, 1]`.
struct RawImage {
    height: usize,
    width: usize,
    channels: usize,
    samples: Vec<f64>,
}

fn raw<P: Copy + Into<f64>>(width: u32, height: u32, channels: usize, samples: &[P], scale: f64) -> RawImage {
    RawImage {
        height: height as usize,
        width: width as usize,
        channels,
        samples: samples.iter().map(|&v| v.into() / scale).collect(),
    }
}

fn read_raw_image(path: &Path) -> anyhow::Result<RawImage> {
    use image::DynamicImage as I;
    let img = image::ImageReader::open(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?
        .decode()
        .with_context(|| format!("cannot decode the image {}", path.display()))?;
    let (w, h) = (img.width(), img.height());
    let raw = match &img {
        I::ImageLuma8(b) => raw(w, h, 1, b.as_raw(), 255.0),
        I::ImageLumaA8(b) => raw(w, h, 2, b.as_raw(), 255.0),
        I::ImageRgb8(b) => raw(w, h, 3, b.as_raw(), 255.0),
        I::ImageRgba8(b) => raw(w, h, 4, b.as_raw(), 255.0),
        I::ImageLuma16(b) => raw(w, h, 1, b.as_raw(), 65535.0),
        I::ImageLumaA16(b) => raw(w, h, 2, b.as_raw(), 65535.0),
        I::ImageRgb16(b) => raw(w, h, 3, b.as_raw(), 65535.0),
        I::ImageRgba16(b) => raw(w, h, 4, b.as_raw(), 65535.0),
        I::ImageRgb32F(b) => raw(w, h, 3, b.as_raw(), 1.0),
        I::ImageRgba32F(b) => raw(w, h, 4, b.as_raw(), 1.0),
        other => bail!("{}: unsupported pixel format {:?}", path.display(), other.color()),
    };
    if raw.height == 0 || raw.width == 0 {
        bail!("{} is an empty image ({} x {})", path.display(), raw.height, raw.width);
    }
    Ok(raw)
}

/// Reads an image as gray values in `[0, 1]`, `height x width`. Colour is
/// mixed with BT.709 luma weights, alpha is dropped (see the module docs).
pub fn read_image_gray(path: &Path) -> anyhow::Result<Array2<f64>> {
    let img = read_raw_image(path)?;
    let c = img.channels;
    Ok(Array2::from_shape_fn((img.height, img.width), |(y, x)| {
        let p = &img.samples[(y * img.width + x) * c..][..c];
        if c >= 3 {
            0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]
        } else {
            p[0]
        }
    }))
}

/// Reads an image keeping its colour channels, `height x width x channels`
/// with 1 (gray) or 3 (RGB) channels in `[0, 1]`; alpha is dropped.
pub fn read_image_channels(path: &Path) -> anyhow::Result<Array3<f64>> {
    let img = read_raw_image(path)?;
    let c = img.channels;
    let kept = if c >= 3 { 3 } else { 1 };
    Ok(Array3::from_shape_fn((img.height, img.width, kept), |(y, x, k)| img.samples[(y * img.width + x) * c + k]))
}

fn to_byte(v: f64) -> u8 {
    // NaN maps to 0 (black).
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Writes raw 8-bit samples (`height x width`, row-major, interleaved
/// channels as `color` says) as a PNG, atomically.
pub fn write_png_bytes(
    path: &Path,
    width: usize,
    height: usize,
    color: image::ExtendedColorType,
    bytes: &[u8],
) -> anyhow::Result<()> {
    use image::ImageEncoder;
    let (w, h) = (u32::try_from(width)?, u32::try_from(height)?);
    if w == 0 || h == 0 {
        bail!("cannot write an empty image ({height} x {width}) to {}", path.display());
    }
    write_atomically(path, |out| Ok(image::codecs::png::PngEncoder::new(out).write_image(bytes, w, h, color)?))
}

/// Writes a gray image (`height x width`) as an 8-bit PNG: values are
/// clamped to `[0, 1]` and scaled by 255. Atomic.
pub fn write_png(path: &Path, image: ArrayView2<'_, f64>) -> anyhow::Result<()> {
    let bytes: Vec<u8> = image.iter().map(|&v| to_byte(v)).collect();
    write_png_bytes(path, image.ncols(), image.nrows(), image::ExtendedColorType::L8, &bytes)
}

/// Writes a `height x width x channels` image (1 or 3 channels) as an 8-bit
/// PNG, values clamped to `[0, 1]`. Atomic.
pub fn write_png_channels(path: &Path, image: ArrayView3<'_, f64>) -> anyhow::Result<()> {
    let color = match image.len_of(Axis(2)) {
        1 => image::ExtendedColorType::L8,
        3 => image::ExtendedColorType::Rgb8,
        c => bail!("cannot write {}: an image needs 1 or 3 channels, not {c}", path.display()),
    };
    let bytes: Vec<u8> = image.iter().map(|&v| to_byte(v)).collect();
    write_png_bytes(path, image.len_of(Axis(1)), image.len_of(Axis(0)), color, &bytes)
}

/// A sound: one row per channel, samples in `[-1, 1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Samples per second.
    pub sample_rate: u32,
    /// `n_channels x n_samples`.
    pub channels: Array2<f64>,
}

/// Reads a WAV file (integer PCM of up to 32 bits or 32-bit float); see the
/// module docs for the scaling.
pub fn read_wav(path: &Path) -> anyhow::Result<Audio> {
    let reader =
        hound::WavReader::open(path).with_context(|| format!("cannot read the WAV file {}", path.display()))?;
    let spec = reader.spec();
    let n_channels = spec.channels as usize;
    let interleaved: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().map(|s| s.map(f64::from)).collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 2f64.powi(i32::from(spec.bits_per_sample) - 1);
            reader.into_samples::<i32>().map(|s| s.map(|v| f64::from(v) / scale)).collect::<Result<_, _>>()
        }
    }
    .with_context(|| format!("cannot decode the samples of {}", path.display()))?;
    if n_channels == 0 || interleaved.is_empty() {
        bail!("{} holds no samples", path.display());
    }
    let n_samples = interleaved.len() / n_channels;
    let channels = Array2::from_shape_fn((n_channels, n_samples), |(c, t)| interleaved[t * n_channels + c]);
    Ok(Audio { sample_rate: spec.sample_rate, channels })
}

/// Writes `audio` as a 32-bit float WAV file, atomically.
pub fn write_wav(path: &Path, audio: &Audio) -> anyhow::Result<()> {
    let n_channels = audio.channels.nrows();
    let spec = hound::WavSpec {
        channels: u16::try_from(n_channels).context("too many channels for a WAV file")?,
        sample_rate: audio.sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    if n_channels == 0 {
        bail!("cannot write {}: the sound has no channel", path.display());
    }
    write_atomically(path, |out| {
        let mut writer = hound::WavWriter::new(out, spec)?;
        for t in 0..audio.channels.ncols() {
            for c in 0..n_channels {
                writer.write_sample(audio.channels[(c, t)] as f32)?;
            }
        }
        writer.finalize()?;
        Ok(())
    })
}

/// Turns a dynamic-dimension array into a 2-D one, naming `what` on failure.
pub fn into_2d(array: ArrayD<f64>, what: &str) -> anyhow::Result<Array2<f64>> {
    let shape = array.shape().to_vec();
    array.into_dimensionality().map_err(|_| anyhow!("{what} must be a 2-D array, but its shape is {shape:?}"))
}
