using System.Security.Cryptography;
using Sandbox.Images.Oci;

namespace Sandbox.Images.Registry;

/// <summary>
/// A blob's body as it streams from the registry: every byte is hashed and counted; reading past the
/// descriptor's size, or reaching the end with fewer bytes or another digest, is a <see cref="RegistryException"/>
/// naming the blob. A connection that breaks mid-body is resumed from the byte reached (a Range request; a server
/// that ignores it resends from the start and the bytes already hashed are skipped), a bounded number of times.
/// Cancelling the token aborts the download (the response is disposed) and the next read throws.
/// </summary>
internal sealed class VerifyingBlobStream : ForwardReadStream
{
    private readonly Func<long, CancellationToken, Task<HttpResponseMessage>>? _resume;
    private int _resumesLeft;
    private HttpResponseMessage _response;
    private Stream _inner;
    private readonly Descriptor _descriptor;
    private readonly IncrementalHash _hash;
    private readonly string _image;
    private readonly IProgress<BlobProgress>? _progress;
    private readonly CancellationToken _cancellationToken;
    private readonly CancellationTokenRegistration _registration;
    private bool _verified;

    public VerifyingBlobStream(HttpResponseMessage response, Stream inner, Descriptor descriptor, string image, IProgress<BlobProgress>? progress, CancellationToken cancellationToken,
        Func<long, CancellationToken, Task<HttpResponseMessage>>? resume = null, int maxResumes = 0)
    {
        _resume = resume;
        _resumesLeft = maxResumes;
        _response = response;
        _inner = inner;
        _descriptor = descriptor;
        _hash = descriptor.Digest.CreateHash();
        _image = image;
        _progress = progress;
        _cancellationToken = cancellationToken;
        _registration = cancellationToken.Register(static s => ((VerifyingBlobStream)s!)._response.Dispose(), this);
    }

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    private Uri? Url => _response.RequestMessage?.RequestUri;

    public override int Read(Span<byte> buffer)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        if (_verified) return 0;
        int n;
        while (true)
        {
            try
            {
                n = _inner.Read(buffer);
                break;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or HttpRequestException)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (TryResumeAsync(e).GetAwaiter().GetResult()) continue;
                throw new RegistryException($"the download broke off after {BytesRead} of {_descriptor.Size} bytes: {e.Message}", _image, Url, null, _descriptor.Digest,
                "Check the network and pull again (blobs already in the store are kept).", e);
            }
        }
        return Account(buffer[..n]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        if (_verified) return 0;
        int n;
        while (true)
        {
            try
            {
                n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or HttpRequestException)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                cancellationToken.ThrowIfCancellationRequested();
                if (await TryResumeAsync(e).ConfigureAwait(false)) continue;
                throw new RegistryException($"the download broke off after {BytesRead} of {_descriptor.Size} bytes: {e.Message}", _image, Url, null, _descriptor.Digest,
                "Check the network and pull again (blobs already in the store are kept).", e);
            }
        }
        return Account(buffer.Span[..n]);
    }

    /// <summary>Reopens the body at <see cref="BytesRead"/>, if resumes are left. False if not (the caller reports the break).</summary>
    private async Task<bool> TryResumeAsync(Exception broken)
    {
        if (_resume is null || _resumesLeft <= 0) return false;
        _resumesLeft--;
        HttpResponseMessage next;
        try
        {
            next = await _resume(BytesRead, _cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException)
        {
            return false; // the original break is the better message
        }
        var range = next.Content.Headers.ContentRange;
        long skip;
        if (next.StatusCode == System.Net.HttpStatusCode.PartialContent && range?.From == BytesRead) skip = 0;
        else if (next.StatusCode == System.Net.HttpStatusCode.OK) skip = BytesRead;
        else
        {
            next.Dispose();
            return false;
        }
        var old = _response;
        _response = next;
        old.Dispose();
        _inner.Dispose();
        _inner = await next.Content.ReadAsStreamAsync(_cancellationToken).ConfigureAwait(false);
        var discard = new byte[81920];
        while (skip > 0)
        {
            int n = await _inner.ReadAsync(discard.AsMemory(0, (int)Math.Min(skip, discard.Length)), _cancellationToken).ConfigureAwait(false);
            if (n == 0) throw new IOException("the resent body is shorter than what was already read", broken);
            skip -= n;
        }
        return true;
    }

    private int Account(ReadOnlySpan<byte> read)
    {
        BytesRead += read.Length;
        if (BytesRead > _descriptor.Size)
            throw new RegistryException($"the registry sent more than the {_descriptor.Size} bytes the descriptor gives.", _image, Url, _response.StatusCode, _descriptor.Digest,
                "The registry serves the wrong content for this digest: report it to the registry's operator.");
        _hash.AppendData(read);
        if (read.Length == 0)
        {
            if (BytesRead != _descriptor.Size)
                throw new RegistryException($"the registry sent {BytesRead} bytes, not the {_descriptor.Size} the descriptor gives.", _image, Url, _response.StatusCode, _descriptor.Digest,
                    "The download was cut short or the registry is broken: pull again.");
            var actual = Digest.FromHash(_descriptor.Digest.Algorithm, _hash.GetHashAndReset());
            if (actual != _descriptor.Digest)
                throw new RegistryException($"the blob's bytes have the digest {actual}, not {_descriptor.Digest}.", _image, Url, _response.StatusCode, _descriptor.Digest,
                    "The registry (or something between) serves corrupt or tampered content: pull again from a registry you trust.");
            _verified = true;
            _progress?.Report(new BlobProgress(_descriptor.Digest, _descriptor.MediaType, BytesRead, _descriptor.Size, Completed: true));
            return 0;
        }
        _progress?.Report(new BlobProgress(_descriptor.Digest, _descriptor.MediaType, BytesRead, _descriptor.Size, Completed: false));
        return read.Length;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Length => _descriptor.Size;
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _registration.Dispose();
            _inner.Dispose();
            _response.Dispose();
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}
