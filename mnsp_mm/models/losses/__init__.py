from .linguistic_alignment import cls_alignment_loss

__all__ = ['cls_alignment_loss']
