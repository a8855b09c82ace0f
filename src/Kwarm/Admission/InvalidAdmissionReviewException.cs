
namespace Kwarm.Admission;

/// <summary>A body that parses as JSON but is not a usable AdmissionReview; the message says which field is wrong.</summary>
public sealed class InvalidAdmissionReviewException : Exception
{
    public InvalidAdmissionReviewException()
        : base("invalid AdmissionReview")
    {
    }

    public InvalidAdmissionReviewException(string message)
        : base(message)
    {
    }

    public InvalidAdmissionReviewException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
