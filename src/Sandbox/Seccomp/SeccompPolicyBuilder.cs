namespace Sandbox.Seccomp;

/// <summary>
/// Builds a <see cref="SeccompPolicy"/> fluently:
/// <code>
/// SeccompPolicy.Create(SeccompAction.Errno(LinuxErrno.ENOSYS))
///     .Allow("read", "write", "exit_group")
///     .Allow("socket").When(Arg0 == AF_UNIX)
///     .Deny("mount", errno: LinuxErrno.EPERM)
///     .Build();
/// </code>
/// Rules are tried in the order they are added; <see cref="When"/> narrows the rules of the call before it.
/// </summary>
public sealed class SeccompPolicyBuilder
{
    private readonly List<SyscallRule> _rules;
    private SeccompAction _defaultAction;
    private int _lastAdded;

    internal SeccompPolicyBuilder(SeccompAction defaultAction, IEnumerable<SyscallRule> rules)
    {
        _defaultAction = defaultAction;
        _rules = [.. rules];
    }

    /// <summary>What happens to a syscall no rule matches.</summary>
    public SeccompPolicyBuilder WithDefaultAction(SeccompAction action)
    {
        _defaultAction = action;
        _lastAdded = 0;
        return this;
    }

    /// <summary>Adds a rule giving <paramref name="action"/> to each of <paramref name="syscalls"/>.</summary>
    public SeccompPolicyBuilder Add(SeccompAction action, params IEnumerable<string> syscalls)
    {
        int before = _rules.Count;
        _rules.AddRange(syscalls.Select(name => new SyscallRule(name, action)));
        _lastAdded = _rules.Count - before;
        return this;
    }

    /// <summary>Adds a finished rule.</summary>
    public SeccompPolicyBuilder Add(SyscallRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _rules.Add(rule);
        _lastAdded = 1;
        return this;
    }

    /// <summary>Allows <paramref name="syscalls"/>.</summary>
    public SeccompPolicyBuilder Allow(params IEnumerable<string> syscalls) => Add(SeccompAction.Allow, syscalls);

    /// <summary>Makes <paramref name="syscall"/> fail with <paramref name="errno"/> (default EPERM).</summary>
    public SeccompPolicyBuilder Deny(string syscall, int errno = LinuxErrno.EPERM) => Add(SeccompAction.Errno(errno), syscall);

    /// <summary>Makes <paramref name="syscalls"/> fail with <paramref name="errno"/> (default EPERM).</summary>
    public SeccompPolicyBuilder Deny(IEnumerable<string> syscalls, int errno = LinuxErrno.EPERM) => Add(SeccompAction.Errno(errno), syscalls);

    /// <summary>Kills the whole process when it calls any of <paramref name="syscalls"/>.</summary>
    public SeccompPolicyBuilder Kill(params IEnumerable<string> syscalls) => Add(SeccompAction.KillProcess, syscalls);

    /// <summary>Sends a catchable SIGSYS for <paramref name="syscalls"/>.</summary>
    public SeccompPolicyBuilder Trap(params IEnumerable<string> syscalls) => Add(SeccompAction.Trap, syscalls);

    /// <summary>Allows and logs <paramref name="syscalls"/>.</summary>
    public SeccompPolicyBuilder Log(params IEnumerable<string> syscalls) => Add(SeccompAction.Log, syscalls);

    /// <summary>Hands <paramref name="syscalls"/> to a user-space supervisor.</summary>
    public SeccompPolicyBuilder Notify(params IEnumerable<string> syscalls) => Add(SeccompAction.UserNotify, syscalls);

    /// <summary>
    /// Narrows the rules added by the previous call: they match only when every one of
    /// <paramref name="conditions"/> holds too (in addition to any they already have).
    /// </summary>
    /// <exception cref="InvalidOperationException">No rule was added just before.</exception>
    public SeccompPolicyBuilder When(params IEnumerable<ArgumentCondition> conditions)
    {
        if (_lastAdded == 0)
            throw new InvalidOperationException("When(...) narrows the rules added by the call just before it (Allow, Deny, Kill, Add...); there is none.");
        var added = conditions.ToArray();
        for (int i = _rules.Count - _lastAdded; i < _rules.Count; i++)
            _rules[i] = _rules[i] with { Conditions = _rules[i].Conditions.AddRange(added) };
        return this;
    }

    /// <summary>Forgets every rule for <paramref name="syscalls"/> (to replace what a built-in profile says about them).</summary>
    public SeccompPolicyBuilder Remove(params IEnumerable<string> syscalls)
    {
        var names = syscalls.ToHashSet(StringComparer.Ordinal);
        _rules.RemoveAll(r => names.Contains(r.Syscall));
        _lastAdded = 0;
        return this;
    }

    /// <summary>The policy.</summary>
    /// <exception cref="SeccompPolicyException">A name is not a syscall of any supported architecture, an argument index is out of range...: lists every problem.</exception>
    public SeccompPolicy Build()
    {
        var policy = new SeccompPolicy(_defaultAction, _rules);
        var problems = policy.Validate();
        return problems.Count == 0 ? policy : throw new SeccompPolicyException("The seccomp policy", problems);
    }
}
