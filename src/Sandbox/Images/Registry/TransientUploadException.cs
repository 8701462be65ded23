namespace Sandbox.Images.Registry;

/// <summary>
/// One try at a blob upload failed in a way worth trying again from the start (a 5xx answer, a broken connection,
/// a rejected range): <see cref="RegistryClient"/> backs off and restarts the upload, and reports <see cref="Failure"/>
/// when no attempts are left.
/// </summary>
internal sealed class TransientUploadException(RegistryException failure) : Exception(failure.Message, failure)
{
    /// <summary>The failure, as reported when no attempts are left.</summary>
    public RegistryException Failure { get; } = failure;
}
