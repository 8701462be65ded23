using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sandbox.Launch;
using Sandbox.RootFs;
using Sandbox.Tests.Fakes;

namespace Sandbox.Tests.RootFs;

/// <summary>
/// Which mount steps a root template holds and which each sandbox takes itself: the default root's split, and for any
/// sequence of steps, that the template's steps followed by the fresh ones leave the same mount tree as the steps in order.
/// </summary>
public sealed class RootTemplateSplitTests
{
    private static readonly IdentityView SandboxUser = new(1000, 1000);

    [Fact]
    public void The_default_root_leaves_the_sandbox_only_proc_devpts_its_writable_tmpfs_mounts_and_the_remount_of_dev()
    {
        var fs = FakeHostFileSystem.MergedUsr().File("/etc/ld.so.cache").CharacterDevice("/dev/null").CharacterDevice("/dev/zero");
        var ops = new RootFsPlanner(fs).Plan(SandboxSpec.Command("/bin/true"), SandboxUser);

        var (template, fresh) = RootTemplates.Split(ops)!.Value;

        Assert.Equal(
            [(MountOpKind.Proc, "/proc"), (MountOpKind.Devpts, "/dev/pts"), (MountOpKind.Tmpfs, "/dev/shm"), (MountOpKind.Remount, "/dev"), (MountOpKind.Tmpfs, "/tmp")],
            fresh.Select(o => (o.Kind, o.Target)));
        Assert.Equal(ops.Length, template.Length + fresh.Length);
        Assert.Contains(template, o => o is { Kind: MountOpKind.Bind, Target: "/usr" });
        Assert.Contains(template, o => o is { Kind: MountOpKind.Tmpfs, Target: "/dev" });
        Assert.Contains(template, o => o is { Kind: MountOpKind.Bind, Target: "/dev/null" });
        Assert.Contains(template, o => o is { Kind: MountOpKind.WriteFile, Target: "/etc/passwd" });
    }

    [Fact]
    public void A_bind_inside_a_fresh_tmpfs_and_a_bind_over_one_are_fresh_and_keep_their_order()
    {
        var fs = FakeHostFileSystem.MergedUsr().Directory("/srv/data").File("/srv/config");
        var spec = SandboxSpec.Command("/bin/true").AddTmpfs("/work", 1 << 20).AddReadOnlyBind("/srv/data", "/work/data").AddReadOnlyBind("/srv/config", "/tmp/config");
        var ops = new RootFsPlanner(fs).Plan(spec, SandboxUser);

        var (template, fresh) = RootTemplates.Split(ops)!.Value;

        Assert.DoesNotContain(template, o => o.Target.StartsWith("/work/", StringComparison.Ordinal) || o.Target.StartsWith("/tmp/", StringComparison.Ordinal));
        Assert.Contains(template, o => o is { Kind: MountOpKind.MakeDirectory, Target: "/work" }); // the mount point itself
        var order = fresh.Select(o => o.Target).ToList();
        Assert.True(order.IndexOf("/work") < order.IndexOf("/work/data"));
        Assert.True(order.IndexOf("/tmp") < order.IndexOf("/tmp/config"));
    }

    [Fact]
    public void An_image_root_has_no_template()
    {
        var ops = ImmutableArray.Create(new MountOp(MountOpKind.Overlay, "/", Source: "/layers/a", Data: "size=1m"), new MountOp(MountOpKind.MakeDirectory, "/proc", Mode: FileModes.Mode0555));

        Assert.Null(RootTemplates.Split(ops));
    }

    /// <summary>A sequence of mount steps over a few nested paths.</summary>
    public sealed class StepsSample
    {
        internal StepsSample(MountOp[] steps) => Steps = steps;

        internal MountOp[] Steps { get; }

        public override string ToString() => string.Join("; ", Steps.Select(s => $"{s.Kind} {s.Target} {s.Flags}"));
    }

    /// <summary>Steps around a tmpfs at /a that a later remount makes read-only: the shape of a root's /dev.</summary>
    public sealed class SubtreeSample
    {
        internal SubtreeSample(MountOp[] steps) => Steps = steps;

        internal MountOp[] Steps { get; }

        public override string ToString() => string.Join("; ", Steps.Select(s => $"{s.Kind} {s.Target} {s.Flags}"));
    }

    internal static class Arbitraries
    {
        public static Arbitrary<SubtreeSample> Subtree() =>
            (from prefix in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Step, n))
             from middle in Gen.Choose(1, 10).SelectMany(n => Gen.ArrayOf(Step, n))
             from suffix in Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(Step, n))
             select new SubtreeSample([
                 .. prefix,
                 new MountOp(MountOpKind.Tmpfs, "/a", Data: "size=64k", Flags: MountFlags.NoSuid | MountFlags.NoExec),
                 .. middle,
                 new MountOp(MountOpKind.Remount, "/a", Flags: MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoExec),
                 .. suffix,
             ])).ToArbitrary();

        private static readonly string[] Paths = ["/a", "/a/b", "/a/b/c", "/a/d", "/e", "/e/f"];

        private static readonly Gen<MountOp> Step =
            from kind in Gen.Elements(MountOpKind.MakeDirectory, MountOpKind.MakeFile, MountOpKind.WriteFile, MountOpKind.Symlink,
                MountOpKind.Bind, MountOpKind.Tmpfs, MountOpKind.Tmpfs, MountOpKind.Proc, MountOpKind.Devpts, MountOpKind.Remount, MountOpKind.Remount)
            from target in Gen.Elements(Paths)
            from readOnly in Gen.Elements(true, true, false)
            from recursive in Gen.Elements(false, false, true)
            select new MountOp(kind, target, Source: kind is MountOpKind.Bind or MountOpKind.Symlink ? "/host" + target : null,
                Flags: (readOnly ? MountFlags.ReadOnly : 0) | (recursive ? MountFlags.Recursive : 0) | MountFlags.NoSuid);

        public static Arbitrary<StepsSample> Steps() =>
            Gen.Choose(0, 14).SelectMany(n => Gen.ArrayOf(Step, n)).Select(s => new StepsSample(s)).ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 500)]
    public bool The_template_then_the_fresh_steps_leave_the_tree_the_steps_leave_in_order(StepsSample sample)
    {
        var ops = sample.Steps.ToImmutableArray();
        if (RootTemplates.Split(ops) is not var (template, fresh))
            return ops.Any(o => o.Kind == MountOpKind.Remount && o.Flags.HasFlag(MountFlags.Recursive));
        var indexed = ops.Select((op, i) => (op, i)).ToList();
        // Each step keeps its own index (a mount's identity), whichever list it went to.
        var split = template.Concat(fresh).Select(op => indexed.First(p => ReferenceEquals(p.op, op))).ToList();
        return MountTree.Run(indexed) == MountTree.Run(split)
            && template.All(o => o.Kind is not (MountOpKind.Proc or MountOpKind.Devpts or MountOpKind.Remount))
            && IsSubsequence(template, ops) && IsSubsequence(fresh, ops) && template.Length + fresh.Length == ops.Length;
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 300)]
    public bool A_template_tmpfs_is_one_a_later_remount_of_its_own_makes_read_only(StepsSample sample)
    {
        var ops = sample.Steps.ToImmutableArray();
        if (RootTemplates.Split(ops) is not var (template, _))
            return true;
        return template.Where(o => o.Kind == MountOpKind.Tmpfs).All(t =>
        {
            int at = ops.IndexOf(t);
            var next = ops.Skip(at + 1).FirstOrDefault(o => o.Target == t.Target && (o.Kind == MountOpKind.Remount || IsMount(o.Kind)));
            return next is { Kind: MountOpKind.Remount } r && r.Flags.HasFlag(MountFlags.ReadOnly) && !r.Flags.HasFlag(MountFlags.Recursive);
        });
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 1000)]
    public bool A_subtree_template_mounted_where_its_tmpfs_was_leaves_the_tree_the_steps_leave_in_order(SubtreeSample sample)
    {
        var ops = sample.Steps.ToImmutableArray();
        if (RootTemplates.SplitSubtree(ops) is not var (tmpfs, moved, template))
            return true;
        var indexed = ops.Select((op, i) => (op, i)).ToList();
        // The template as the tmpfs with its steps run at once, then the rest in order.
        var expanded = indexed.Take(tmpfs + 1).Concat(moved.Select(i => indexed[i]))
            .Concat(indexed.Skip(tmpfs + 1).Where(p => !moved.Contains(p.i))).ToList();
        return MountTree.Run(indexed) == MountTree.Run(expanded)
            && moved.Length == template.Length
            && moved.All(i => SandboxPath.IsWithin(ops[i].Target, ops[tmpfs].Target) && ops[i].Target != ops[tmpfs].Target)
            && template.All(o => o.Kind is not (MountOpKind.Proc or MountOpKind.Devpts or MountOpKind.Remount));
    }

    private static bool IsMount(MountOpKind kind) => kind is MountOpKind.Bind or MountOpKind.Tmpfs or MountOpKind.Proc or MountOpKind.Devpts;

    private static bool IsSubsequence(ImmutableArray<MountOp> part, ImmutableArray<MountOp> whole)
    {
        int at = 0;
        foreach (var op in part)
        {
            while (at < whole.Length && !ReferenceEquals(whole[at], op)) at++;
            if (at++ >= whole.Length) return false;
        }
        return true;
    }

    /// <summary>
    /// A model of a mount namespace, enough to compare two orders of the same steps: mounts stack on (parent mount, path),
    /// a walk from the root sees the last mount at each step of the path on the mount it is in, files land in the mount
    /// that holds their parent directory, and remounts mark the mount they reach (recursive: and every mount beneath it).
    /// </summary>
    private static class MountTree
    {
        private const int Root = -1;

        public static string Run(IEnumerable<(MountOp Op, int Index)> steps)
        {
            var mounts = new List<(int Id, int Parent, string Path)>();
            var entries = new Dictionary<(int Mount, string Path), int>();
            var marks = new Dictionary<int, SortedSet<int>>();
            foreach (var (op, index) in steps)
            {
                if (IsMount(op.Kind))
                {
                    mounts.Add((index, Visible(mounts, op.Target), op.Target));
                }
                else if (op.Kind == MountOpKind.Remount)
                {
                    int reached = Visible(mounts, op.Target);
                    foreach (int id in op.Flags.HasFlag(MountFlags.Recursive) ? Beneath(mounts, reached) : [reached])
                    {
                        if (!marks.TryGetValue(id, out var set)) marks[id] = set = [];
                        set.Add(index);
                    }
                }
                else
                {
                    entries[(Visible(mounts, Parent(op.Target)), op.Target)] = index;
                }
            }

            var view = new List<string>();
            foreach (string path in new[] { "/", "/a", "/a/b", "/a/b/c", "/a/d", "/e", "/e/f" })
            {
                int mount = Visible(mounts, path);
                string entry = path == "/" ? "" : entries.TryGetValue((Visible(mounts, Parent(path)), path), out int e) ? e.ToString() : "-";
                view.Add($"{path}:{mount}:{entry}:{string.Join(',', marks.GetValueOrDefault(mount) ?? [])}");
            }
            return string.Join(' ', view);
        }

        /// <summary>The mount a walk from the root reaches at <paramref name="path"/>.</summary>
        private static int Visible(List<(int Id, int Parent, string Path)> mounts, string path)
        {
            int current = Root;
            foreach (string prefix in SandboxPath.Ancestors(path).Append(path).Where(p => p != "/"))
            {
                // The last mount made at this path on the mount the walk is in, then any stacked on it there.
                for (bool found = true; found;)
                {
                    found = false;
                    for (int i = mounts.Count - 1; i >= 0; i--)
                        if (mounts[i].Path == prefix && mounts[i].Parent == current)
                        {
                            current = mounts[i].Id;
                            found = true;
                            break;
                        }
                }
            }
            return current;
        }

        private static IEnumerable<int> Beneath(List<(int Id, int Parent, string Path)> mounts, int top)
        {
            yield return top;
            foreach (var child in mounts.Where(m => m.Parent == top).ToList())
                foreach (int id in Beneath(mounts, child.Id))
                    yield return id;
        }

        private static string Parent(string path) => path.LastIndexOf('/') is var slash and > 0 ? path[..slash] : "/";
    }
}
