//! `einsum` and `tensordot`: both label the dims of their operands and contract labelled
//! tensors pairwise, left to right, each step one batched product (permute, reshape, bmm).

use super::{check_mm_dtypes, product, sum_trailing};
use crate::error::Result;
use crate::layout::{wrap_dim, Layout};
use crate::tensor::Tensor;
use crate::{bail, Scalar};

/// A dim's name: letters are 0..52 (`A-Z` then `a-z`, PyTorch's order), ellipsis dims follow.
type Label = u32;
const ELLIPSIS: Label = 52;

/// A tensor whose dims carry distinct labels.
struct Labelled {
    t: Tensor,
    labels: Vec<Label>,
}

impl Labelled {
    fn size(&self, label: Label) -> Option<usize> {
        self.labels.iter().position(|&l| l == label).map(|d| self.t.shape()[d])
    }

    /// Sums over `labels` (which must all be present).
    fn sum_out(self, labels: &[Label]) -> Result<Labelled> {
        if labels.is_empty() {
            return Ok(self);
        }
        let (keep, sum): (Vec<usize>, Vec<usize>) = (0..self.labels.len()).partition(|&d| !labels.contains(&self.labels[d]));
        let order: Vec<i64> = keep.iter().chain(&sum).map(|&d| d as i64).collect();
        let t = sum_trailing(&self.t.permute(&order)?, sum.len())?;
        Ok(Labelled { t, labels: keep.iter().map(|&d| self.labels[d]).collect() })
    }

    /// Permutes to `order` (a permutation of the labels) and merges consecutive groups of dims
    /// of sizes `groups` into one dim each.
    fn arrange(&self, order: &[Label], groups: &[usize]) -> Result<Tensor> {
        let perm: Vec<i64> = order.iter().map(|l| self.labels.iter().position(|x| x == l).expect("label present") as i64).collect();
        let t = self.t.permute(&perm)?;
        let mut shape = Vec::with_capacity(groups.len());
        let mut d = 0;
        for &g in groups {
            shape.push(t.shape()[d..d + g].iter().product::<usize>() as i64);
            d += g;
        }
        t.reshape(&shape)
    }
}

/// One pairwise step: contracts the labels shared by `a` and `b` that are not in `keep`;
/// shared labels in `keep` are batch dims (size 1 broadcasts).
fn contract_pair(a: Labelled, b: Labelled, keep: &[Label]) -> Result<Labelled> {
    // A contracted dim of size 1 on one side is a sum over the other side's dim.
    let mut a_sum = Vec::new();
    let mut b_sum = Vec::new();
    for &l in &a.labels {
        if let (Some(sa), Some(sb)) = (a.size(l), b.size(l)) {
            if !keep.contains(&l) && sa != sb {
                a_sum.push(l);
                b_sum.push(l);
            }
        }
    }
    let (a, b) = (a.sum_out(&a_sum)?, b.sum_out(&b_sum)?);
    let shared = |l: &Label| b.labels.contains(l);
    let batch: Vec<Label> = a.labels.iter().copied().filter(|l| shared(l) && keep.contains(l)).collect();
    let contracted: Vec<Label> = a.labels.iter().copied().filter(|l| shared(l) && !keep.contains(l)).collect();
    let m: Vec<Label> = a.labels.iter().copied().filter(|l| !shared(l)).collect();
    let n: Vec<Label> = b.labels.iter().copied().filter(|l| !a.labels.contains(l)).collect();
    let ones = |k: usize| vec![1; k];
    let a_order = [&batch[..], &m, &contracted].concat();
    let b_order = [&batch[..], &contracted, &n].concat();
    let at = a.arrange(&a_order, &[ones(batch.len()), vec![m.len(), contracted.len()]].concat())?;
    let bt = b.arrange(&b_order, &[ones(batch.len()), vec![contracted.len(), n.len()]].concat())?;
    let r = product(&at, &bt, None, Scalar::Int(1))?;
    let mut shape: Vec<i64> = r.shape()[..batch.len()].iter().map(|&s| s as i64).collect();
    shape.extend(m.iter().map(|&l| a.size(l).expect("label of a") as i64));
    shape.extend(n.iter().map(|&l| b.size(l).expect("label of b") as i64));
    Ok(Labelled { t: r.reshape(&shape)?, labels: [&batch[..], &m, &n].concat() })
}

/// Contracts labelled operands into a tensor with dims `out` (every label of `out` appears in
/// some operand; the other labels are summed).
fn contract(mut ops: Vec<Labelled>, out: &[Label]) -> Result<Tensor> {
    let rest = ops.split_off(1);
    let mut acc = ops.pop().expect("at least one operand");
    let later: Vec<Vec<Label>> = (0..rest.len()).map(|i| rest[i + 1..].iter().flat_map(|o| o.labels.clone()).collect()).collect();
    for (i, b) in rest.into_iter().enumerate() {
        let mut keep = out.to_vec();
        keep.extend(&later[i]);
        // Labels only one side has and nobody needs later are summed before the product.
        let a_only: Vec<Label> = acc.labels.iter().copied().filter(|l| !b.labels.contains(l) && !keep.contains(l)).collect();
        let b_only: Vec<Label> = b.labels.iter().copied().filter(|l| !acc.labels.contains(l) && !keep.contains(l)).collect();
        acc = contract_pair(acc.sum_out(&a_only)?, b.sum_out(&b_only)?, &keep)?;
    }
    let extra: Vec<Label> = acc.labels.iter().copied().filter(|l| !out.contains(l)).collect();
    let acc = acc.sum_out(&extra)?;
    let perm: Vec<i64> = out.iter().map(|l| acc.labels.iter().position(|x| x == l).expect("output label present") as i64).collect();
    acc.t.permute(&perm)
}

/// Takes the diagonal over repeated labels, so each label names one dim (a view; recorded as
/// one when `t` needs a gradient).
fn merge_repeated(t: &Tensor, labels: &[Label], operand: usize) -> Result<Labelled> {
    let (layout, merged) = merge_layout(t.layout(), labels, operand)?;
    if merged.len() == labels.len() {
        return Ok(Labelled { t: t.clone(), labels: merged });
    }
    let view = if crate::autograd::needs_grad(&[t]) {
        let labels = labels.to_vec();
        crate::autograd::views::view("DiagonalBackward0", t, move |x| Ok(x.with_layout(merge_layout(x.layout(), &labels, operand)?.0)))?
    } else {
        t.with_layout(layout)
    };
    Ok(Labelled { t: view, labels: merged })
}

/// The layout of `l` with the dims of repeated labels merged into one (their diagonal), and
/// the distinct labels in order.
fn merge_layout(l: &Layout, labels: &[Label], operand: usize) -> Result<(Layout, Vec<Label>)> {
    let mut merged = Vec::new();
    let mut layout = Layout { shape: Vec::new(), strides: Vec::new(), offset: l.offset };
    for (d, &label) in labels.iter().enumerate() {
        match merged.iter().position(|&x| x == label) {
            Some(i) => {
                if layout.shape[i] != l.shape[d] {
                    bail!(
                        Runtime,
                        "einsum(): subscript {} is repeated for operand {} but the sizes don't match, {} != {}",
                        label_char(label),
                        operand,
                        layout.shape[i],
                        l.shape[d]
                    );
                }
                layout.strides[i] += l.strides[d];
            }
            None => {
                merged.push(label);
                layout.shape.push(l.shape[d]);
                layout.strides.push(l.strides[d]);
            }
        }
    }
    Ok((layout, merged))
}

fn label_char(l: Label) -> char {
    match l {
        0..=25 => (b'A' + l as u8) as char,
        26..=51 => (b'a' + (l - 26) as u8) as char,
        _ => '.',
    }
}

/// One side of the equation: its letters and where its ellipsis is.
struct Term {
    labels: Vec<Label>,
    ellipsis: Option<usize>,
}

fn parse_term(s: &str, operand: usize, start: usize) -> Result<Term> {
    let bytes = s.as_bytes();
    let mut term = Term { labels: Vec::new(), ellipsis: None };
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'A'..=b'Z' => term.labels.push((c - b'A') as Label),
            b'a'..=b'z' => term.labels.push(26 + (c - b'a') as Label),
            b'.' => {
                if term.ellipsis.is_some() {
                    bail!(Runtime, "einsum(): found '.' for operand {} for which an ellipsis was already found", operand);
                }
                if bytes.get(i..i + 3) != Some(b"...") {
                    bail!(Runtime, "einsum(): found '.' for operand {} that is not part of any ellipsis", operand);
                }
                term.ellipsis = Some(term.labels.len());
                i += 2;
            }
            _ => bail!(
                Runtime,
                "einsum(): invalid subscript given at index {} in the equation string, subscripts must be in [a-zA-Z]",
                start + i
            ),
        }
        i += 1;
    }
    Ok(term)
}

/// `einsum(equation, operands)`: explicit (`->`) or implicit output, `...` broadcasting,
/// repeated subscripts as diagonals.
pub fn einsum(equation: &str, operands: &[Tensor]) -> Result<Tensor> {
    let (lhs, rhs) = match equation.find("->") {
        Some(p) => (&equation[..p], Some(&equation[p + 2..])),
        None => (equation, None),
    };
    let mut terms = Vec::new();
    let mut start = 0;
    for (i, part) in lhs.split(',').enumerate() {
        let trimmed: String = part.chars().filter(|c| !c.is_whitespace()).collect();
        terms.push(parse_term(&trimmed, i, start)?);
        start += part.len() + 1;
    }
    if operands.is_empty() {
        bail!(Runtime, "einsum(): must provide at least one operand");
    }
    if terms.len() < operands.len() {
        bail!(Runtime, "einsum(): more operands were provided than specified in the equation");
    }
    if terms.len() > operands.len() {
        bail!(Runtime, "einsum(): fewer operands were provided than were specified in the equation");
    }
    for w in operands.windows(2) {
        check_mm_dtypes(&w[0], &w[1])?;
    }
    // Each operand's ellipsis covers its dims beyond its letters; they align from the right.
    let mut ell_ndim = 0;
    for (i, (term, t)) in terms.iter().zip(operands).enumerate() {
        let n = term.labels.len();
        match term.ellipsis {
            None if n != t.ndim() => bail!(
                Runtime,
                "einsum(): the number of subscripts in the equation ({}) does not match the number of dimensions ({}) for operand {} and no ellipsis was given",
                n,
                t.ndim(),
                i
            ),
            Some(_) if n > t.ndim() => bail!(
                Runtime,
                "einsum(): the number of subscripts in the equation ({}) is more than the number of dimensions ({}) for operand {}",
                n,
                t.ndim(),
                i
            ),
            Some(_) => ell_ndim = ell_ndim.max(t.ndim() - n),
            None => {}
        }
    }
    let ell_labels = |count: usize| -> Vec<Label> { (ell_ndim - count..ell_ndim).map(|j| ELLIPSIS + j as Label).collect() };
    let mut ops = Vec::with_capacity(operands.len());
    let mut counts = [0usize; 52];
    for (i, (term, t)) in terms.iter().zip(operands).enumerate() {
        for &l in &term.labels {
            counts[l as usize] += 1;
        }
        let labels = match term.ellipsis {
            Some(p) => [&term.labels[..p], &ell_labels(t.ndim() - term.labels.len()), &term.labels[p..]].concat(),
            None => term.labels.clone(),
        };
        ops.push(merge_repeated(t, &labels, i)?);
    }
    check_sizes(&ops)?;
    let out: Vec<Label> = match rhs {
        Some(r) => {
            let r: String = r.chars().filter(|c| !c.is_whitespace()).collect();
            let term = parse_term(&r, 0, lhs.len() + 2).map_err(|e| crate::err!(Runtime, "{}", e.message.replace("for operand 0", "for the output")))?;
            for (j, &l) in term.labels.iter().enumerate() {
                if term.labels[..j].contains(&l) {
                    bail!(Runtime, "einsum(): output subscript {} appears more than once in the output", label_char(l));
                }
                if counts[l as usize] == 0 {
                    bail!(Runtime, "einsum(): output subscript {} does not appear in the equation for any input operand", label_char(l));
                }
            }
            match term.ellipsis {
                Some(p) => [&term.labels[..p], &ell_labels(ell_ndim), &term.labels[p..]].concat(),
                None => term.labels,
            }
        }
        None => {
            let mut out = ell_labels(ell_ndim);
            out.extend((0..52).filter(|&l| counts[l as usize] == 1));
            out
        }
    };
    contract(ops, &out)
}

/// Every label must have one size across operands, or size 1 (which broadcasts).
fn check_sizes(ops: &[Labelled]) -> Result<()> {
    let mut seen: Vec<(Label, usize)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        for (d, &l) in op.labels.iter().enumerate() {
            let s = op.t.shape()[d];
            match seen.iter_mut().find(|(x, _)| *x == l) {
                Some((_, prev)) if *prev != s && *prev != 1 && s != 1 => bail!(
                    Runtime,
                    "einsum(): subscript {} has size {} for operand {} which does not broadcast with previously seen size {}",
                    label_char(l),
                    s,
                    i,
                    prev
                ),
                Some((_, prev)) => *prev = (*prev).max(s),
                None => seen.push((l, s)),
            }
        }
    }
    Ok(())
}

/// `tensordot(a, b, dims=(dims_a, dims_b))`: contracts `a`'s dims `dims_a` with `b`'s
/// `dims_b`; the result has `a`'s remaining dims then `b`'s.
pub fn tensordot(a: &Tensor, b: &Tensor, dims_a: &[i64], dims_b: &[i64]) -> Result<Tensor> {
    if let Some(r) = crate::autocast::run("tensordot", [a, b], |t| tensordot(&t[0], &t[1], dims_a, dims_b)) { return r; }
    if dims_a.len() != dims_b.len() {
        bail!(Runtime, "both dimension lists should have same length");
    }
    if a.dtype() != b.dtype() {
        bail!(Runtime, "both inputs should have same dtype");
    }
    let la: Vec<Label> = (0..a.ndim() as Label).collect();
    let mut lb: Vec<Label> = (0..b.ndim() as Label).map(|d| a.ndim() as Label + d).collect();
    let mut used_a = vec![false; a.ndim()];
    let mut used_b = vec![false; b.ndim()];
    for (&da, &db) in dims_a.iter().zip(dims_b) {
        let (da, db) = (wrap_dim(da, a.ndim())?, wrap_dim(db, b.ndim())?);
        if used_a[da] || used_b[db] {
            bail!(Runtime, "dim {} appears multiple times in the list of dims", if used_a[da] { da } else { db });
        }
        used_a[da] = true;
        used_b[db] = true;
        let (sa, sb) = (a.shape()[da], b.shape()[db]);
        if sa != sb && sa != 1 && sb != 1 {
            bail!(
                Runtime,
                "contracted dimensions need to match, but first has size {} in dim {} and second has size {} in dim {}",
                sa,
                da,
                sb,
                db
            );
        }
        lb[db] = da as Label;
    }
    let out: Vec<Label> = la.iter().copied().filter(|&l| !used_a[l as usize]).chain((0..b.ndim()).filter(|&d| !used_b[d]).map(|d| lb[d])).collect();
    let ops = vec![Labelled { t: a.clone(), labels: la }, Labelled { t: b.clone(), labels: lb }];
    contract(ops, &out)
}
