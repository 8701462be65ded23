namespace Sandbox.Cgroups;

/// <summary>Polls the kernel's view until a condition holds or a deadline passes.</summary>
internal static class CgroupPolling
{
    /// <summary>True once <paramref name="condition"/> holds; false if <paramref name="timeout"/> passes first.</summary>
    public static async Task<bool> WaitUntilAsync(
        Func<bool> condition, TimeSpan timeout, TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
    {
        long start = time.GetTimestamp();
        while (true)
        {
            if (condition())
            {
                return true;
            }
            if (time.GetElapsedTime(start) >= timeout)
            {
                return false;
            }
            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
