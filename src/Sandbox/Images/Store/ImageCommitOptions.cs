using Sandbox.Images.Layers;

namespace Sandbox.Images.Store;

/// <summary>What a commit records in the new image's config, and how it writes the layer.</summary>
public sealed record ImageCommitOptions
{
    /// <summary>The history entry's created_by. Default: "sandbox commit".</summary>
    public string CreatedBy { get; init; } = "sandbox commit";

    /// <summary>The history entry's comment, or null for none.</summary>
    public string? Comment { get; init; }

    /// <summary>The new config's and history entry's creation time; null: now.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>How the layer is written; null: from the store's <see cref="ImageStoreOptions.Layers"/> (owner mapping) and the base image's layers (overlay xattr namespace).</summary>
    public LayerCommitOptions? Layer { get; init; }

    /// <summary>A copy with another created_by.</summary>
    public ImageCommitOptions WithCreatedBy(string createdBy) => this with { CreatedBy = createdBy };

    /// <summary>A copy with a comment.</summary>
    public ImageCommitOptions WithComment(string? comment) => this with { Comment = comment };

    /// <summary>A copy with a fixed creation time.</summary>
    public ImageCommitOptions WithCreated(DateTimeOffset created) => this with { Created = created };

    /// <summary>A copy with other layer options.</summary>
    public ImageCommitOptions WithLayer(LayerCommitOptions layer) => this with { Layer = layer };
}
